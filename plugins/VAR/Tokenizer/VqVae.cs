using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// VAR's multi-scale VQVAE (official <c>vqvae.VQVAE</c>): keys <c>encoder.*</c>, <c>decoder.*</c>, <c>quantize.*</c>,
/// <c>quant_conv.*</c>, <c>post_quant_conv.*</c>. Images [B, C_img, H, W] in [−1, 1] ↔ features f [B, Cvae, h, w]
/// ↔ per-scale indices.
/// </summary>
public sealed class VqVae : nn.Module
{
    readonly VaeEncoder encoder;
    readonly VaeDecoder decoder;
    readonly MultiScaleQuantizer quantize;
    readonly ChannelPaddedConv2d quant_conv;
    readonly ChannelPaddedConv2d post_quant_conv;

    public VqVae(VqVaeOptions options, int imageChannels) : base("VQVAE")
    {
        Options = options;
        encoder = new VaeEncoder(options, imageChannels);
        decoder = new VaeDecoder(options, imageChannels);
        quantize = new MultiScaleQuantizer(options);
        int ks = options.QuantConvKs;   // z_channels outputs: see ChannelPaddedConv2d
        quant_conv = new ChannelPaddedConv2d(options.ZChannels, options.ZChannels, ks);
        post_quant_conv = new ChannelPaddedConv2d(options.ZChannels, options.ZChannels, ks);
        RegisterComponents();
    }

    public VqVaeOptions Options { get; }

    internal MultiScaleQuantizer Quantizer => quantize;

    /// <summary>f = quant_conv(encoder(x)): [B, C_img, H, W] → [B, Cvae, h, w].</summary>
    public Tensor Features(Tensor images)
    {
        using var encoded = encoder.forward(images);
        return quant_conv.forward(encoded);
    }

    /// <summary>decoder(post_quant_conv(f̂)), not clamped: [B, Cvae, h, w] → [B, C_img, H, W].</summary>
    public Tensor DecodeFeatures(Tensor fHat)
    {
        using var post = post_quant_conv.forward(fHat);
        return decoder.forward(post);
    }

    /// <summary>The official <c>fhat_to_img</c>: the decoded image clamped to [−1, 1].</summary>
    public Tensor FHatToImage(Tensor fHat)
    {
        using var decoded = DecodeFeatures(fHat);
        return decoded.clamp(-1, 1);
    }
}
