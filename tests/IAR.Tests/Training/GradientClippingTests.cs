using IAR.Host.Training;
using TorchSharp;

namespace IAR.Tests.Training;

/// <summary><see cref="GradientClipping.Clip"/>: the clipping without the read of the norm (OptimizerTests compare it with torch).</summary>
public class GradientClippingTests
{
    [Fact]
    public void Clipping_decides_on_the_device_to_leave_non_finite_gradients_unscaled()
    {
        var layer = torch.nn.Linear(4, 2);
        using var x = torch.randn(3, 4);
        layer.call(x).pow(2).sum().mul(1e3).backward();
        using var finite = layer.weight!.grad!.clone();
        using (torch.no_grad()) layer.bias!.grad![0] = float.PositiveInfinity;
        using var norm = GradientClipping.Clip(layer.parameters(), maxNorm: 0.1);
        Assert.True(float.IsPositiveInfinity(norm.item<float>()));
        IAR.ContractTests.TensorAssert.Identical(finite, layer.weight!.grad!);   // not scaled by 0.1 / inf = 0
    }
}
