using IAR.Abstractions;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using Microsoft.Extensions.DependencyInjection;

namespace IAR.Plugins.LlamaGen;

/// <summary>The plugin entry point the host discovers in LlamaGen.dll.</summary>
public sealed class LlamaGenPlugin : IIarPlugin
{
    /// <summary>The name used in YAML and in <see cref="TokenizerInfo.Plugin"/> / <see cref="GeneratorInfo.Plugin"/>.</summary>
    public const string PluginName = "LlamaGen";

    public string Name => PluginName;

    public string Description => "LlamaGen: VQ image tokenizer and class-conditional GPT (next-token), official weights and key names";

    public void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<ITokenizerFactory, VqTokenizerFactory>();
        services.AddSingleton<IGeneratorFactory, GptGeneratorFactory>();
    }
}

/// <summary>Finds a factory's preset by name.</summary>
internal static class PresetLookup
{
    /// <summary>The options record of <paramref name="preset"/>.</summary>
    /// <exception cref="ConfigurationException">No such preset (the available ones are listed).</exception>
    public static T Options<T>(IModelFactory factory, string preset) where T : class =>
        (T)(factory.Presets.FirstOrDefault(p => p.Name == preset)
            ?? throw new ConfigurationException(
                $"Unknown LlamaGen {factory.Name} preset '{preset}'; available: {string.Join(", ", factory.Presets.Select(p => p.Name))}.")).Options;
}
