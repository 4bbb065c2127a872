using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// The two resamplings between token scales, exactly as the official quantizer calls them: PyTorch's
/// <c>interpolate(mode='area')</c> (adaptive average pooling, overlapping windows when the size does not divide) to go
/// down, and <c>interpolate(mode='bicubic', align_corners=False)</c> (A = −0.75, clamped borders) to go up.
/// </summary>
internal static class ScaleResampling
{
    /// <summary>[B, C, H, W] → [B, C, side, side] by area averaging.</summary>
    public static Tensor Area(Tensor x, int side) => nn.functional.adaptive_avg_pool2d(x, [side, side]);

    /// <summary>[B, C, h, w] → [B, C, side, side] by bicubic interpolation.</summary>
    public static Tensor Bicubic(Tensor x, int side) =>
        nn.functional.interpolate(x, size: [side, side], mode: InterpolationMode.Bicubic, align_corners: false);
}
