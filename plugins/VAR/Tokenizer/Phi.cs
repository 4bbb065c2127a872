using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// The residual refinement φ applied to each scale's upsampled code map: φ(h) = (1 − r)·h + r·conv3×3(h)
/// (official <c>quant.Phi</c>, a Conv2d subclass, so its keys are <c>weight</c> and <c>bias</c> directly).
/// </summary>
internal sealed class Phi : ChannelPaddedConv2d
{
    readonly double ratio;

    public Phi(int channels, double residualRatio) : base(channels, channels, 3, nameof(Phi)) => ratio = Math.Abs(residualRatio);

    public override Tensor forward(Tensor h)   // [B, C, H, W]
    {
        using var conv = base.forward(h);
        using var kept = h.mul(1 - ratio);
        return kept.add(conv.mul(ratio));
    }
}
