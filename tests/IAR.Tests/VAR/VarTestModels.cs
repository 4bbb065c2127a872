using IAR.Abstractions;
using IAR.Plugins.VAR;
using TorchSharp;

namespace IAR.Tests.VAR;

/// <summary>The tiny presets, built through the plugin factories after <c>torch.manual_seed(seed)</c>.</summary>
internal static class VarTestModels
{
    /// <summary>VQVAE-T's data: 1 channel, 32 px (Fashion-MNIST padded), 4×4 latent.</summary>
    public static readonly ImageShape Image = new(1, 32, 32);

    public const int NumClasses = 4;

    static readonly Dictionary<string, string> NoOptions = new();

    public static VqVaeTokenizer Tokenizer(int seed, IReadOnlyDictionary<string, string>? options = null)
    {
        torch.manual_seed(seed);
        return (VqVaeTokenizer)new VqVaeTokenizerFactory().Create(new TokenizerRequest("VQVAE-T", options ?? NoOptions, Image));
    }

    /// <summary>
    /// VQVAE-T shrunk for tests of VQVAE mechanics: 16 px, three levels (the same 4×4 latent and scales), a quarter of
    /// the compute of the 32 px preset.
    /// </summary>
    public static VqVaeTokenizer SmallTokenizer(int seed)
    {
        torch.manual_seed(seed);
        return (VqVaeTokenizer)new VqVaeTokenizerFactory().Create(new TokenizerRequest("VQVAE-T",
            new Dictionary<string, string> { ["ch_mult"] = "1,1,1" }, new ImageShape(1, 16, 16)));
    }

    public static VarGenerator Generator(int seed, ITokenizer? tokenizer = null, IReadOnlyDictionary<string, string>? options = null)
    {
        tokenizer ??= Tokenizer(seed);
        torch.manual_seed(seed);
        return (VarGenerator)new VarGeneratorFactory().Create(new GeneratorRequest("VAR-T", options ?? NoOptions, tokenizer, NumClasses));
    }
}
