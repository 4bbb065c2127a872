using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>
/// LlamaGen's VQ tokenizer network (official <c>VQModel</c>, state-dict keys as officially): encoder, 1×1
/// quant_conv to the code dimension, quantizer, 1×1 post_quant_conv back to z_channels, decoder.
/// </summary>
public sealed class VQModel : nn.Module
{
    readonly VqEncoder encoder;
    readonly VqDecoder decoder;
    readonly VectorQuantizer quantize;
    readonly Conv2d quant_conv;
    readonly Conv2d post_quant_conv;

    /// <param name="device">Where the parameters live; the meta device builds the shapes without memory.</param>
    public VQModel(VqConfig config, Device? device = null) : base(nameof(VQModel))
    {
        Config = config;
        var o = config.Options;
        encoder = new VqEncoder(o, config.Image.Channels, device);
        decoder = new VqDecoder(o, config.Image.Channels, device);
        quantize = new VectorQuantizer(o, device);
        quant_conv = nn.Conv2d(o.ZChannels, o.CodebookEmbedDim, 1, device: device);
        post_quant_conv = nn.Conv2d(o.CodebookEmbedDim, o.ZChannels, 1, device: device);
        RegisterComponents();
    }

    public VqConfig Config { get; }

    public VectorQuantizer Quantizer => quantize;

    /// <summary>images [B, C, H, W] → the latent before quantisation [B, D, h, w].</summary>
    public Tensor PreQuant(Tensor images) => quant_conv.forward(encoder.forward(images));

    /// <summary>images [B, C, H, W] → quantised latent, indices and (optionally) the quantizer's losses.</summary>
    public QuantizerOutput Encode(Tensor images, bool withLosses)
    {
        using var latent = PreQuant(images);
        return quantize.forward(latent, withLosses);
    }

    /// <summary>Quantised latent [B, D, h, w] → images [B, C, H, W] (not clamped).</summary>
    public Tensor Decode(Tensor quantized)
    {
        using var z = post_quant_conv.forward(quantized);
        return decoder.forward(z);
    }

    /// <summary>Official <c>decode_code</c>: indices int64 [B, h·w] → images [B, C, H, W] (not clamped).</summary>
    public Tensor DecodeCodes(Tensor indices)
    {
        using var scope = torch.NewDisposeScope();
        var grid = Config.Grid;
        var codes = quantize.CodeVectors().index_select(0, indices.flatten());                       // [B·h·w, D]
        var latent = codes.view(indices.shape[0], grid.Height, grid.Width, -1).permute(0, 3, 1, 2);  // [B, D, h, w]
        return Decode(latent).MoveToOuterDisposeScope();
    }
}
