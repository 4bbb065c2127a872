using IAR.Abstractions;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;

namespace IAR.Tests.LlamaGen;

/// <summary>Tiny LlamaGen models built through the plugin factories, as the host builds them.</summary>
internal static class LlamaGenTestModels
{
    public const int NumClasses = 5;

    /// <summary>VQ-T on 1×8×8 images: a 4×4 token grid over a 64-entry codebook.</summary>
    public static VqTokenizer Tokenizer(int seed = 0, IReadOnlyDictionary<string, string>? options = null, ImageShape? image = null)
    {
        torch.manual_seed(seed);
        return (VqTokenizer)new VqTokenizerFactory().Create(
            new TokenizerRequest("VQ-T", options ?? new Dictionary<string, string>(), image ?? new ImageShape(1, 8, 8)));
    }

    /// <summary>
    /// GPT-T over <see cref="Tokenizer"/>, with a randomly initialised head (the official zero init makes every logit
    /// equal, which hides most behaviour) and no dropout unless <paramref name="options"/> say otherwise.
    /// </summary>
    public static GptGenerator Generator(int seed = 0, IReadOnlyDictionary<string, string>? options = null, ITokenizer? tokenizer = null)
    {
        tokenizer ??= Tokenizer();
        var merged = new Dictionary<string, string>
        {
            ["output_init_std"] = "0.5", ["token_dropout_p"] = "0", ["resid_dropout_p"] = "0", ["ffn_dropout_p"] = "0",
        };
        foreach (var (k, v) in options ?? new Dictionary<string, string>()) merged[k] = v;
        torch.manual_seed(seed);
        return (GptGenerator)new GptGeneratorFactory().Create(new GeneratorRequest("GPT-T", merged, tokenizer, NumClasses));
    }
}
