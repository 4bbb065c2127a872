using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>
/// Latent → image (official <c>Decoder</c>): conv_in, mid, then the levels from the deepest (<c>conv_blocks.0</c>,
/// with attention) to full resolution, each with one more residual block than the encoder's and an upsample on all
/// but the last; GroupNorm, swish, conv_out.
/// </summary>
public sealed class VqDecoder : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_in;
    readonly ModuleList<nn.Module<Tensor, Tensor>> mid;
    readonly ModuleList<ConvLevel> conv_blocks;
    readonly GroupNorm norm_out;
    readonly Conv2d conv_out;

    public VqDecoder(VqOptions options, int outChannels, Device? device) : base(nameof(VqDecoder))
    {
        var mult = options.DecoderChMult;
        int ch = options.Ch, levels = mult.Count;
        int deepest = ch * mult[^1];
        conv_in = nn.Conv2d(options.ZChannels, deepest, 3, padding: 1, device: device);
        mid = VqEncoder.MidBlocks(deepest, options, device);
        // Forward order: level k of conv_blocks is resolution level levels−1−k.
        conv_blocks = new ModuleList<ConvLevel>(Enumerable.Range(0, levels).Select(k =>
        {
            int level = levels - 1 - k;
            return new ConvLevel(ch * (k == 0 ? mult[^1] : mult[level + 1]), ch * mult[level], options.NumResBlocks + 1,
                withAttention: k == 0, level == 0 ? Resampling.None : Resampling.Up, options, device);
        }).ToArray());
        norm_out = Normalize.Group(ch * mult[0], options, device);
        conv_out = nn.Conv2d(ch * mult[0], outChannels, 3, padding: 1, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)                                    // [B, z, h, w] → [B, C, h·f, w·f]
    {
        using var scope = torch.NewDisposeScope();
        var h = conv_in.forward(z);
        foreach (var block in mid) h = block.forward(h);
        foreach (var level in conv_blocks) h = level.forward(h);
        return conv_out.forward(F.silu(norm_out.forward(h))).MoveToOuterDisposeScope();
    }
}
