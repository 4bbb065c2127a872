using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>Halves H and W: zero-pad right and bottom by one, then a 3×3 conv with stride 2 and no padding.</summary>
internal sealed class Downsample2x : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv;

    public Downsample2x(int channels) : base(nameof(Downsample2x))
    {
        conv = nn.Conv2d(channels, channels, 3, stride: 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var padded = nn.functional.pad(x, [0, 1, 0, 1]);
        return conv.forward(padded);
    }
}
