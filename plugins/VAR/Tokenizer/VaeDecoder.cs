using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// The VQVAE decoder (official <c>basic_vae.Decoder</c>): features [B, z_channels, h, w] → images [B, C_img, H, W].
/// <c>up.{i}</c> is indexed by level, so <c>up.0</c> is the full-resolution level and <c>up.{levels−1}</c> the
/// deepest (with attention); the forward runs them deepest first. Each level has num_res_blocks + 1 blocks.
/// </summary>
internal sealed class VaeDecoder : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_in;
    readonly VaeMiddle mid;
    readonly ModuleList<VaeLevel> up;
    readonly GroupNorm norm_out;
    readonly ChannelPaddedConv2d conv_out;

    public VaeDecoder(VqVaeOptions o, int imageChannels) : base(nameof(VaeDecoder))
    {
        int levels = o.ChMult.Count;
        int blockIn = o.Ch * o.ChMult[levels - 1];
        conv_in = nn.Conv2d(o.ZChannels, blockIn, 3, padding: 1);
        mid = new VaeMiddle(blockIn, o.Dropout, o.UsingMidSa);
        var byLevel = new VaeLevel[levels];
        for (int level = levels - 1; level >= 0; level--)
        {
            int blockOut = o.Ch * o.ChMult[level];
            bool deepest = level == levels - 1;
            var blocks = new List<ResnetBlock>();
            var attentions = new List<AttnBlock>();
            for (int j = 0; j < o.NumResBlocks + 1; j++)
            {
                blocks.Add(new ResnetBlock(blockIn, blockOut, o.Dropout));
                blockIn = blockOut;
                if (deepest && o.UsingSa) attentions.Add(new AttnBlock(blockIn));
            }
            byLevel[level] = new VaeLevel(blocks, attentions, null, level == 0 ? null : new Upsample2x(blockIn));
        }
        up = nn.ModuleList(byLevel);
        norm_out = VaeNormalization.GroupNorm(blockIn);
        conv_out = new ChannelPaddedConv2d(blockIn, imageChannels, 3);   // 1 or 3 output channels
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)
    {
        using var scope = torch.NewDisposeScope();
        var h = mid.forward(conv_in.forward(z));
        for (int level = up.Count - 1; level >= 0; level--) h = up[level].Resample(up[level].forward(h));
        return conv_out.forward(nn.functional.silu(norm_out.forward(h))).MoveToOuterDisposeScope();
    }
}
