using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// The residual refinement φ applied to each scale's upsampled code map: φ(h) = (1 − r)·h + r·conv3×3(h)
/// (official <c>quant.Phi</c>, a Conv2d subclass, so its keys are <c>weight</c> and <c>bias</c> directly).
/// </summary>
internal sealed class Phi : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;   // [C, C, 3, 3]
    readonly Parameter bias;     // [C]
    readonly double ratio;

    public Phi(int channels, double residualRatio) : base(nameof(Phi))
    {
        ratio = Math.Abs(residualRatio);
        // nn.Conv2d's own initialisation, taken from a conv of the same shape.
        using var conv = nn.Conv2d(channels, channels, 3, padding: 1);
        weight = nn.Parameter(conv.weight!.detach().clone());
        bias = nn.Parameter(conv.bias!.detach().clone());
        RegisterComponents();
    }

    public override Tensor forward(Tensor h)   // [B, C, H, W]
    {
        using var conv = nn.functional.conv2d(h, weight, bias, padding: [1, 1]);
        using var kept = h.mul(1 - ratio);
        return kept.add(conv.mul(ratio));
    }
}
