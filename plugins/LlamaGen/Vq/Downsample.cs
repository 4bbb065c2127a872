using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>Halves H and W: zero-pad one pixel right and bottom, then a 3×3 conv with stride 2 (or 2×2 average pooling).</summary>
public sealed class Downsample : nn.Module<Tensor, Tensor>
{
    readonly Conv2d? conv;

    public Downsample(int channels, bool withConv, Device? device) : base(nameof(Downsample))
    {
        if (withConv) conv = nn.Conv2d(channels, channels, 3, stride: 2, padding: 0L, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)                                    // [B, C, H, W] → [B, C, H/2, W/2]
    {
        if (conv is null) return F.avg_pool2d(x, 2, 2);
        using var padded = F.pad(x, [0, 1, 0, 1]);                              // (left, right, top, bottom)
        return conv.forward(padded);
    }
}
