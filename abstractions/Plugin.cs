using Microsoft.Extensions.DependencyInjection;

namespace IAR.Abstractions;

/// <summary>
/// The entry point of a plugin: the host finds the one public implementation in <c>plugins/&lt;Name&gt;/&lt;Name&gt;.dll</c>,
/// creates it with its parameterless constructor and lets it register its factories
/// (<see cref="ITokenizerFactory"/>, <see cref="IGeneratorFactory"/>) as singletons.
/// </summary>
public interface IIarPlugin
{
    /// <summary>The name used in YAML (<c>plugin: LlamaGen</c>); it must equal the plugin's folder name.</summary>
    string Name { get; }

    string Description { get; }

    void ConfigureServices(IServiceCollection services);
}

/// <summary>Something that builds models from named presets.</summary>
public interface IModelFactory
{
    /// <summary>The model family, e.g. <c>VQ</c>, <c>GPT</c>.</summary>
    string Name { get; }

    string Description { get; }

    IReadOnlyList<ModelPreset> Presets { get; }
}

/// <summary>A named configuration of a model, e.g. LlamaGen's <c>GPT-B</c> or VAR's <c>d16</c>.</summary>
/// <param name="Name">The name used in YAML (<c>preset: GPT-B</c>).</param>
/// <param name="Description">One line: what it is for, its size.</param>
/// <param name="Options">
/// The plugin's typed options record with this preset's values. YAML <c>options:</c> override its properties by
/// their snake_case names (see <see cref="PresetOptions"/>).
/// </param>
public sealed record ModelPreset(string Name, string Description, object Options);

/// <summary>One option of a preset: its YAML key, its type and its value.</summary>
public sealed record OptionDescription(string Key, string Type, string Value);
