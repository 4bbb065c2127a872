using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>Doubles H and W: nearest-neighbour ×2, then a 3×3 conv.</summary>
internal sealed class Upsample2x : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv;

    public Upsample2x(int channels) : base(nameof(Upsample2x))
    {
        conv = nn.Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var up = nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        return conv.forward(up);
    }
}
