using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>GroupNorm → swish → 3×3 conv, twice (dropout before the second conv), plus a 1×1 shortcut when channels change.</summary>
public sealed class ResnetBlock : nn.Module<Tensor, Tensor>
{
    readonly GroupNorm norm1;
    readonly Conv2d conv1;
    readonly GroupNorm norm2;
    readonly Conv2d conv2;
    readonly Conv2d? nin_shortcut;
    readonly double dropout;

    public ResnetBlock(int inChannels, int outChannels, VqOptions options, Device? device) : base(nameof(ResnetBlock))
    {
        norm1 = Normalize.Group(inChannels, options, device);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1, device: device);
        norm2 = Normalize.Group(outChannels, options, device);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, device: device);
        if (inChannels != outChannels) nin_shortcut = nn.Conv2d(inChannels, outChannels, 1, device: device);
        dropout = options.DropoutP;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)                                    // [B, Cin, H, W] → [B, Cout, H, W]
    {
        using var scope = torch.NewDisposeScope();
        var h = conv1.forward(F.silu(norm1.forward(x)));
        h = conv2.forward(F.dropout(F.silu(norm2.forward(h)), dropout, training));
        var shortcut = nin_shortcut is null ? x : nin_shortcut.forward(x);
        return (shortcut + h).MoveToOuterDisposeScope();
    }
}
