using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// Builds LlamaGen GPTs. The official class-conditional sizes (GPT-B … GPT-XXXL, GPT-3B) plus small ones for CPU
/// experiments (GPT-S) and tests (GPT-T); vocabulary and grid come from the tokenizer, classes from the data.
/// </summary>
public sealed class GptGeneratorFactory : IGeneratorFactory
{
    public string Name => "GPT";

    public string Description => "LlamaGen class-conditional GPT (next-token, 2-D RoPE, official key names)";

    public GeneratorKind Kind => GeneratorKind.NextToken;

    public IReadOnlyList<ModelPreset> Presets { get; } =
    [
        Official("GPT-B", 768, 12, 12, "111M"),
        Official("GPT-L", 1024, 24, 16, "343M"),
        Official("GPT-XL", 1280, 36, 20, "775M"),
        Official("GPT-XXL", 1536, 48, 24, "1.4B"),
        Official("GPT-XXXL", 2560, 48, 40, "3.9B"),
        Official("GPT-3B", 3200, 24, 32, "3.1B"),
        new("GPT-S", "small, for CPU experiments: dim 256, 4 layers, 8 heads (~4M parameters at vocabulary 1024)",
            new GptOptions { Dim = 256, NLayer = 4, NHead = 8 }),
        new("GPT-T", "tiny, for tests: dim 64, 2 layers, 4 heads",
            new GptOptions { Dim = 64, NLayer = 2, NHead = 4 }),
    ];

    public IGenerator Create(GeneratorRequest request) => new GptGenerator(Configure(request), request.Preset);

    /// <summary>The validated config a request builds (preset + overrides + the tokenizer's vocabulary and grid).</summary>
    public GptConfig Configure(GeneratorRequest request)
    {
        var options = PresetOptions.Apply(PresetLookup.Options<GptOptions>(this, request.Preset), request.Options, "generator.options");
        var layout = request.Tokenizer.Info.Layout;
        if (layout.IsMultiScale)
            throw new ConfigurationException(
                $"LlamaGen's GPT predicts one token grid, but tokenizer {request.Tokenizer.Info.Plugin}/{request.Tokenizer.Info.Preset} has the multi-scale layout {layout}; use a single-grid tokenizer such as LlamaGen VQ.");
        var config = new GptConfig(options, request.Tokenizer.Info.VocabularySize, request.NumClasses, layout.FinalGrid);
        config.Validate("generator.options");
        return config;
    }

    /// <summary>Parameters of a preset for a vocabulary, class count and grid, counted on the meta device (no memory).</summary>
    public long ParameterCount(string preset, int vocabSize, int numClasses, GridSize grid)
    {
        var config = new GptConfig(PresetLookup.Options<GptOptions>(this, preset), vocabSize, numClasses, grid);
        using var model = new Transformer(config, torch.device(DeviceType.META));
        return model.parameters().Sum(p => p.numel());
    }

    static ModelPreset Official(string name, int dim, int layers, int heads, string size) =>
        new(name, $"official LlamaGen {name}: dim {dim}, {layers} layers, {heads} heads ({size} at ImageNet 256², vocabulary 16384)",
            new GptOptions { Dim = dim, NLayer = layers, NHead = heads });
}
