using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// One resolution level of the encoder (<c>encoder.down.{i}</c>) or decoder (<c>decoder.up.{i}</c>): residual blocks,
/// each followed by self-attention where the level has it, then the resampling conv under its official key
/// (<c>downsample</c> or <c>upsample</c>), absent (null, so no keys) on the level that does not resample.
/// </summary>
internal sealed class VaeLevel : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<ResnetBlock> block;
    readonly ModuleList<AttnBlock> attn;
    readonly Downsample2x? downsample;   // encoder levels but the deepest
    readonly Upsample2x? upsample;       // decoder levels but the full-resolution one

    public VaeLevel(IEnumerable<ResnetBlock> blocks, IEnumerable<AttnBlock> attentions, Downsample2x? downsample, Upsample2x? upsample)
        : base(nameof(VaeLevel))
    {
        block = nn.ModuleList(blocks.ToArray());
        attn = nn.ModuleList(attentions.ToArray());
        if (attn.Count != 0 && attn.Count != block.Count)
            throw new ArgumentException("A VAE level has either no attention or one per residual block.");
        if (downsample is not null && upsample is not null) throw new ArgumentException("A VAE level resamples in one direction.");
        this.downsample = downsample;
        this.upsample = upsample;
        RegisterComponents();   // null fields have no keys
    }

    /// <summary>Residual blocks (with attention); the resampling is separate because the encoder and decoder order differs.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var h = x;
        for (int j = 0; j < block.Count; j++)
        {
            h = block[j].forward(h);
            if (attn.Count > 0) h = attn[j].forward(h);
        }
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>The level's down- or up-sampling, or the input itself where the level has none.</summary>
    public Tensor Resample(Tensor x) => downsample?.forward(x) ?? upsample?.forward(x) ?? x;
}
