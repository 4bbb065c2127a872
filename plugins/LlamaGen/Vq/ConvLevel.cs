using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>How a <see cref="ConvLevel"/> changes the resolution after its blocks.</summary>
public enum Resampling
{
    None,
    Down,
    Up,
}

/// <summary>
/// One resolution level of the encoder or decoder (official <c>conv_blocks.{i}</c>): residual blocks, each followed
/// by attention at the deepest level, then a down- or upsample unless it is the last level.
/// </summary>
public sealed class ConvLevel : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<ResnetBlock> res;
    readonly ModuleList<AttnBlock> attn;
    readonly Downsample? downsample;
    readonly Upsample? upsample;

    public ConvLevel(int inChannels, int outChannels, int blocks, bool withAttention, Resampling resampling, VqOptions options, Device? device)
        : base(nameof(ConvLevel))
    {
        res = new ModuleList<ResnetBlock>(Enumerable.Range(0, blocks)
            .Select(i => new ResnetBlock(i == 0 ? inChannels : outChannels, outChannels, options, device)).ToArray());
        attn = new ModuleList<AttnBlock>(withAttention
            ? Enumerable.Range(0, blocks).Select(_ => new AttnBlock(outChannels, options, device)).ToArray()
            : []);
        if (resampling == Resampling.Down) downsample = new Downsample(outChannels, options.ResampWithConv, device);
        if (resampling == Resampling.Up) upsample = new Upsample(outChannels, options.ResampWithConv, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)                                    // [B, Cin, H, W] → [B, Cout, H', W']
    {
        using var scope = torch.NewDisposeScope();
        var h = x;
        for (int i = 0; i < res.Count; i++)
        {
            h = res[i].forward(h);
            if (attn.Count > 0) h = attn[i].forward(h);
        }
        if (downsample is not null) h = downsample.forward(h);
        if (upsample is not null) h = upsample.forward(h);
        return h.MoveToOuterDisposeScope();
    }
}
