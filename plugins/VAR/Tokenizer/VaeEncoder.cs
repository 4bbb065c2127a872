using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// The VQVAE encoder (official <c>basic_vae.Encoder</c>, double_z = False): images [B, C_img, H, W] →
/// features [B, z_channels, H/2^(levels−1), W/2^(levels−1)]. Level i has ch·ch_mult[i] channels; attention only
/// on the deepest level.
/// </summary>
internal sealed class VaeEncoder : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_in;
    readonly ModuleList<VaeLevel> down;
    readonly VaeMiddle mid;
    readonly GroupNorm norm_out;
    readonly ChannelPaddedConv2d conv_out;

    public VaeEncoder(VqVaeOptions o, int imageChannels) : base(nameof(VaeEncoder))
    {
        int levels = o.ChMult.Count;
        conv_in = nn.Conv2d(imageChannels, o.Ch, 3, padding: 1);
        var levelModules = new List<VaeLevel>();
        int blockIn = o.Ch;
        for (int level = 0; level < levels; level++)
        {
            int blockOut = o.Ch * o.ChMult[level];
            bool deepest = level == levels - 1;
            var blocks = new List<ResnetBlock>();
            var attentions = new List<AttnBlock>();
            for (int j = 0; j < o.NumResBlocks; j++)
            {
                blocks.Add(new ResnetBlock(blockIn, blockOut, o.Dropout));
                blockIn = blockOut;
                if (deepest && o.UsingSa) attentions.Add(new AttnBlock(blockIn));
            }
            levelModules.Add(new VaeLevel(blocks, attentions, deepest ? null : new Downsample2x(blockIn), null));
        }
        down = nn.ModuleList(levelModules.ToArray());
        mid = new VaeMiddle(blockIn, o.Dropout, o.UsingMidSa);
        norm_out = VaeNormalization.GroupNorm(blockIn);
        conv_out = new ChannelPaddedConv2d(blockIn, o.ZChannels, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var h = conv_in.forward(x);
        foreach (var level in down) h = level.Resample(level.forward(h));
        h = mid.forward(h);
        return conv_out.forward(nn.functional.silu(norm_out.forward(h))).MoveToOuterDisposeScope();
    }
}
