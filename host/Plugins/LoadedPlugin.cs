using IAR.Abstractions;

namespace IAR.Host.Plugins;

/// <summary>A plugin loaded into its own load context, with the factories it registered.</summary>
public sealed record LoadedPlugin(
    string Name,
    string Description,
    string Version,
    string Folder,
    IReadOnlyList<ITokenizerFactory> Tokenizers,
    IReadOnlyList<IGeneratorFactory> Generators);
