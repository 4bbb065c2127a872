using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>Doubles H and W: nearest-neighbour interpolation, then a 3×3 conv.</summary>
public sealed class Upsample : nn.Module<Tensor, Tensor>
{
    readonly Conv2d? conv;

    public Upsample(int channels, bool withConv, Device? device) : base(nameof(Upsample))
    {
        if (withConv) conv = nn.Conv2d(channels, channels, 3, padding: 1, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)                                    // [B, C, H, W] → [B, C, 2H, 2W]
    {
        var up = F.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        if (conv is null) return up;
        using (up) return conv.forward(up);
    }
}
