using IAR.Abstractions;
using IAR.Plugins.VAR;
using TorchSharp;

namespace IAR.Tests.VAR;

/// <summary>The official initialisations' truncated normal (TorchSharp's own fills a tensor with one value).</summary>
public class TruncatedNormalTests
{
    [Fact]
    public void Samples_have_the_requested_spread_within_the_absolute_bounds()
    {
        torch.manual_seed(0);
        using var narrow = torch.empty(200_000);
        TruncatedNormal.Fill(narrow, 0.05);                   // bounds ±2 are 40σ away: a plain normal
        Assert.InRange(narrow.std().item<float>(), 0.0495, 0.0505);
        Assert.InRange(narrow.mean().item<float>(), -0.0005, 0.0005);

        using var wide = torch.empty(200_000);
        TruncatedNormal.Fill(wide, 2.0, a: -1, b: 1);          // truncated hard: ±0.5σ, nearly uniform on [−1, 1]
        Assert.True(wide.min().item<float>() >= -1 && wide.max().item<float>() <= 1);
        Assert.InRange(wide.std().item<float>(), 0.55, 0.59);   // uniform would be 1/√3 ≈ 0.577
    }
}
