using IAR.Abstractions;
using TorchSharp;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>
/// Builds LlamaGen VQ tokenizers: the official VQ-16 and VQ-8 (ImageNet, 16384×8 codebook) and small ones for
/// 28–32 px images (VQ-S) and tests (VQ-T). Image channels and size come from the request (the data).
/// </summary>
public sealed class VqTokenizerFactory : ITokenizerFactory
{
    public string Name => "VQ";

    public string Description => "LlamaGen VQ tokenizer (conv encoder/decoder, L2-normalised codebook, official key names)";

    public IReadOnlyList<ModelPreset> Presets { get; } =
    [
        new("VQ-16", "official LlamaGen VQ-16: downsample 16, codebook 16384×8 (71.9M parameters)",
            new VqOptions { EncoderChMult = [1, 1, 2, 2, 4], DecoderChMult = [1, 1, 2, 2, 4] }),
        new("VQ-8", "official LlamaGen VQ-8: downsample 8, codebook 16384×8",
            new VqOptions { EncoderChMult = [1, 2, 2, 4], DecoderChMult = [1, 2, 2, 4] }),
        new("VQ-S", "small, for 28–32 px images: downsample 4 (7×7 or 8×8 tokens), ch 32, codebook 1024×8",
            new VqOptions
            {
                Ch = 32, EncoderChMult = [1, 2, 2], DecoderChMult = [1, 2, 2], NumResBlocks = 1, ZChannels = 32,
                CodebookSize = 1024,
            }),
        new("VQ-T", "tiny, for tests: downsample 2, ch 32, codebook 64×8",
            new VqOptions
            {
                Ch = 32, EncoderChMult = [1, 2], DecoderChMult = [1, 2], NumResBlocks = 1, ZChannels = 16,
                CodebookSize = 64, CodebookShowUsage = false,
            }),
    ];

    public ITokenizer Create(TokenizerRequest request) => new VqTokenizer(Configure(request), request.Preset);

    /// <summary>The validated config a request builds.</summary>
    public VqConfig Configure(TokenizerRequest request)
    {
        var options = PresetOptions.Apply(PresetLookup.Options<VqOptions>(this, request.Preset), request.Options, "tokenizer.options");
        var config = new VqConfig(options, request.Image);
        config.Validate("tokenizer.options");
        return config;
    }

    /// <summary>Parameters of a preset for images with <paramref name="channels"/> channels, counted on the meta device.</summary>
    public long ParameterCount(string preset, int channels)
    {
        var options = PresetLookup.Options<VqOptions>(this, preset);
        int side = 1 << (options.EncoderChMult.Count - 1);
        using var model = new VQModel(new VqConfig(options, new ImageShape(channels, side, side)), torch.device(DeviceType.META));
        return model.parameters().Sum(p => p.numel());
    }
}
