using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// Pre-activation residual block of the VQVAE (official <c>basic_vae.ResnetBlock</c>):
/// GroupNorm → SiLU → 3×3 conv, twice, plus a 1×1 <c>nin_shortcut</c> only where the channel count changes.
/// </summary>
internal sealed class ResnetBlock : nn.Module<Tensor, Tensor>
{
    readonly GroupNorm norm1;
    readonly Conv2d conv1;
    readonly GroupNorm norm2;
    readonly nn.Module<Tensor, Tensor> dropout;
    readonly Conv2d conv2;
    readonly nn.Module<Tensor, Tensor> nin_shortcut;

    public ResnetBlock(int inChannels, int outChannels, double dropoutRate) : base(nameof(ResnetBlock))
    {
        norm1 = VaeNormalization.GroupNorm(inChannels);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        norm2 = VaeNormalization.GroupNorm(outChannels);
        dropout = dropoutRate > 1e-6 ? nn.Dropout(dropoutRate) : nn.Identity();
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        // An Identity has no parameters, so an equal-width block has no nin_shortcut keys (as official).
        nin_shortcut = inChannels != outChannels ? nn.Conv2d(inChannels, outChannels, 1) : nn.Identity();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)   // [B, Cin, H, W] → [B, Cout, H, W]
    {
        using var scope = torch.NewDisposeScope();
        var h = conv1.forward(nn.functional.silu(norm1.forward(x)));
        h = conv2.forward(dropout.forward(nn.functional.silu(norm2.forward(h))));
        return (nin_shortcut.forward(x) + h).MoveToOuterDisposeScope();
    }
}
