using IAR.Plugins.LlamaGen.Gpt;
using TorchSharp;

namespace IAR.Tests.LlamaGen;

public class DropoutTests
{
    const double P = 0.1;

    [Fact]
    public void Drops_a_fraction_p_and_scales_the_survivors_by_one_over_one_minus_p()
    {
        torch.manual_seed(3);
        using var x = torch.rand(1 << 20).add_(1);   // [N] in [1, 2): a zero in the output can only be a drop
        using var y = Dropout.Apply(x, P);
        using var dropped = y.eq(0);
        double fraction = dropped.to(torch.float64).mean().item<double>();
        double sigma = Math.Sqrt(P * (1 - P) / x.NumberOfElements);   // binomial standard error, ≈ 3e-4
        Assert.InRange(fraction, P - 5 * sigma, P + 5 * sigma);
        using var kept = dropped.logical_not();
        using var scale = torch.ones(1).div_(1 - P);   // 1/(1−p) in fp32, as F.dropout scales
        Assert.True(y.masked_select(kept).eq(x.masked_select(kept) * scale).all().item<bool>(), "survivors must be x · 1/(1−p)");
    }

    [Fact]
    public void The_same_seed_gives_the_same_mask_and_the_gradient_is_the_mask()
    {
        using var x = torch.randn(8, 16, 32).requires_grad_();
        torch.manual_seed(5);
        using var first = Dropout.Apply(x, P);
        torch.manual_seed(5);
        using var second = Dropout.Apply(x, P);
        Assert.True(first.eq(second).all().item<bool>());
        torch.manual_seed(6);
        using var other = Dropout.Apply(x, P);
        Assert.False(first.eq(other).all().item<bool>());

        first.sum().backward();
        using var expected = torch.where(first.detach().eq(0), 0.0, 1 / (1 - P)).to(torch.float32);   // d(sum)/dx = the scaled mask
        Assert.True(x.grad!.allclose(expected, rtol: 0, atol: 0));
    }
}
