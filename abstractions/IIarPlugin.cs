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
