using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>Single-head self-attention over the H·W positions (1×1 q, k, v, proj_out; scale C^−½), residual.</summary>
public sealed class AttnBlock : nn.Module<Tensor, Tensor>
{
    readonly GroupNorm norm;
    readonly Conv2d q;
    readonly Conv2d k;
    readonly Conv2d v;
    readonly Conv2d proj_out;

    public AttnBlock(int channels, VqOptions options, Device? device) : base(nameof(AttnBlock))
    {
        norm = Normalize.Group(channels, options, device);
        q = nn.Conv2d(channels, channels, 1, device: device);
        k = nn.Conv2d(channels, channels, 1, device: device);
        v = nn.Conv2d(channels, channels, 1, device: device);
        proj_out = nn.Conv2d(channels, channels, 1, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)                                    // [B, C, H, W]
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], height = x.shape[2], width = x.shape[3];
        var h = norm.forward(x);
        Tensor Positions(Conv2d projection) => projection.forward(h).flatten(2).transpose(1, 2).unsqueeze(1);   // [B, 1, H·W, C]
        var attended = F.scaled_dot_product_attention(Positions(q), Positions(k), Positions(v));               // [B, 1, H·W, C]
        var image = attended.squeeze(1).transpose(1, 2).reshape(b, c, height, width);                         // [B, C, H, W]
        return (x + proj_out.forward(image)).MoveToOuterDisposeScope();
    }
}
