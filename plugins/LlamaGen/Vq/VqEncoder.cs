using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>
/// Image → latent (official <c>Encoder</c>): conv_in, one <see cref="ConvLevel"/> per channel multiplier (each but
/// the last halves the resolution), mid (res, attn, res), GroupNorm, swish, conv_out to z_channels.
/// </summary>
public sealed class VqEncoder : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_in;
    readonly ModuleList<ConvLevel> conv_blocks;
    readonly ModuleList<nn.Module<Tensor, Tensor>> mid;
    readonly GroupNorm norm_out;
    readonly Conv2d conv_out;

    public VqEncoder(VqOptions options, int inChannels, Device? device) : base(nameof(VqEncoder))
    {
        var mult = options.EncoderChMult;
        int ch = options.Ch, levels = mult.Count;
        conv_in = nn.Conv2d(inChannels, ch, 3, padding: 1, device: device);
        conv_blocks = new ModuleList<ConvLevel>(Enumerable.Range(0, levels).Select(i => new ConvLevel(
            ch * (i == 0 ? 1 : mult[i - 1]), ch * mult[i], options.NumResBlocks, withAttention: i == levels - 1,
            i == levels - 1 ? Resampling.None : Resampling.Down, options, device)).ToArray());
        int deepest = ch * mult[^1];
        mid = MidBlocks(deepest, options, device);
        norm_out = Normalize.Group(deepest, options, device);
        conv_out = nn.Conv2d(deepest, options.ZChannels, 3, padding: 1, device: device);
        RegisterComponents();
    }

    /// <summary>The middle of encoder and decoder alike: res, attn, res at the deepest channel count.</summary>
    internal static ModuleList<nn.Module<Tensor, Tensor>> MidBlocks(int channels, VqOptions options, Device? device) =>
        new(new ResnetBlock(channels, channels, options, device), new AttnBlock(channels, options, device),
            new ResnetBlock(channels, channels, options, device));

    public override Tensor forward(Tensor x)                                    // [B, C, H, W] → [B, z, H/f, W/f]
    {
        using var scope = torch.NewDisposeScope();
        var h = conv_in.forward(x);
        foreach (var level in conv_blocks) h = level.forward(h);
        foreach (var block in mid) h = block.forward(h);
        return conv_out.forward(F.silu(norm_out.forward(h))).MoveToOuterDisposeScope();
    }
}
