using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// Single-head self-attention over the H·W positions of a feature map (official <c>basic_vae.AttnBlock</c>):
/// one fused 1×1 <c>qkv</c> conv with 3C outputs split q, k, v; scale C^-0.5; residual through <c>proj_out</c>.
/// </summary>
internal sealed class AttnBlock : nn.Module<Tensor, Tensor>
{
    readonly GroupNorm norm;
    readonly Conv2d qkv;
    readonly Conv2d proj_out;
    readonly double scale;

    public AttnBlock(int channels) : base(nameof(AttnBlock))
    {
        norm = VaeNormalization.GroupNorm(channels);
        qkv = nn.Conv2d(channels, 3 * channels, 1);
        proj_out = nn.Conv2d(channels, channels, 1);
        scale = Math.Pow(channels, -0.5);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)   // [B, C, H, W]
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var qkvs = qkv.forward(norm.forward(x)).reshape(b, 3, c, h * w).unbind(1);   // 3 × [B, C, HW]
        var weights = torch.bmm(qkvs[0].transpose(1, 2), qkvs[1]).mul(scale).softmax(2);   // [B, HW(q), HW(k)]
        var attended = torch.bmm(qkvs[2], weights.transpose(1, 2)).view(b, c, h, w);        // [B, C, HW(q)] → map
        return (x + proj_out.forward(attended)).MoveToOuterDisposeScope();
    }
}
