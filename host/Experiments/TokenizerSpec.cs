using IAR.Host.Configuration;
using System.ComponentModel;
using IAR.Abstractions;

namespace IAR.Host.Experiments;

public sealed record TokenizerSpec : ISpecSection
{
    [RequiredKey, Description("plugin that provides the tokenizer, e.g. LlamaGen")]
    public string Plugin { get; init; } = "";

    [RequiredKey, Description("one of the plugin's tokenizer presets (iar plugins lists them)")]
    public string Preset { get; init; } = "";

    [PathValue, Description("weights to load (safetensors or PyTorch .pt/.pth); null = train the tokenizer in this run")]
    public string? Checkpoint { get; init; }

    [Description("overrides of the preset's options, by name")]
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    [Description("how the tokenizer is trained when no checkpoint is given")]
    public TrainingSpec Training { get; init; } = new() { LabelDrop = 0, WeightDecay = 0, Beta2 = 0.99 };

    public IEnumerable<(string Key, string Message)> Validate()
    {
        // Only generators route their matmuls through Autocast; a tokenizer's convolutions would silently stay fp32.
        if (Training.Loss.Count > 0)
            yield return ("training", $"training.loss = {{{string.Join(", ", Training.Loss.Keys)}}} is invalid for the tokenizer; its loss terms are the plugin's (the generator's training.loss adds terms).");
        if (Training.Precision == PrecisionSetting.Bf16)
            yield return ("training", $"training.precision = {SpecSchema.EnumValue(Training.Precision)} is invalid for the tokenizer; fp32 or auto (which is fp32 for the tokenizer) is accepted (bf16 applies to the generator's training.precision).");
    }
}
