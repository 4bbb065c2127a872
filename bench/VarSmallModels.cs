using IAR.Abstractions;
using IAR.Plugins.VAR;
using TorchSharp;

namespace IAR.Bench;

/// <summary>The VAR plugin's quickstart-sized models (VQVAE-S + VAR-S on 1×32×32 images, 10 classes), seeded.</summary>
internal static class VarSmallModels
{
    public static readonly ImageShape Image = new(1, 32, 32);

    public const int NumClasses = 10;

    public static (ITokenizer Tokenizer, IGenerator Generator) Build(string tokenizerPreset = "VQVAE-S", string generatorPreset = "VAR-S")
    {
        torch.manual_seed(0);
        var tokenizer = new VqVaeTokenizerFactory().Create(new TokenizerRequest(tokenizerPreset, new Dictionary<string, string>(), Image));
        var generator = new VarGeneratorFactory().Create(
            new GeneratorRequest(generatorPreset, new Dictionary<string, string>(), tokenizer, NumClasses));
        return (tokenizer, generator);
    }

    public static Dictionary<string, object> Context(ITokenizer tokenizer, IGenerator generator, int batch) => new()
    {
        ["tokenizer"] = tokenizer.Info.Preset, ["generator"] = generator.Info.Preset, ["batch"] = batch,
        ["tokens"] = tokenizer.Info.Layout.SequenceLength, ["scales"] = tokenizer.Info.Layout.ToString(),
        ["threads"] = torch.get_num_threads(),
    };
}
