using IAR.Host.Configuration;
using System.ComponentModel;

namespace IAR.Host.Experiments;

public sealed record GeneratorSpec : ISpecSection
{
    [RequiredKey, Description("plugin that provides the generator, e.g. LlamaGen or VAR")]
    public string Plugin { get; init; } = "";

    [RequiredKey, Description("one of the plugin's generator presets (iar plugins lists them)")]
    public string Preset { get; init; } = "";

    [PathValue, Description("pretrained weights (safetensors or PyTorch .pt/.pth, official key names); IAR rearranges their vocabulary rows")]
    public string? Checkpoint { get; init; }

    [Description("overrides of the preset's options, by name")]
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    public IEnumerable<(string Key, string Message)> Validate() => [];
}
