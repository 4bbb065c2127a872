namespace IAR.Abstractions;

/// <summary>A named configuration of a model, e.g. LlamaGen's <c>GPT-B</c> or VAR's <c>d16</c>.</summary>
/// <param name="Name">The name used in YAML (<c>preset: GPT-B</c>).</param>
/// <param name="Description">One line: what it is for, its size.</param>
/// <param name="Options">
/// The plugin's typed options record with this preset's values. YAML <c>options:</c> override its properties by
/// their snake_case names (see <see cref="PresetOptions"/>).
/// </param>
public sealed record ModelPreset(string Name, string Description, object Options);
