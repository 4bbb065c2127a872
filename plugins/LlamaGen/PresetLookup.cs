using IAR.Abstractions;

namespace IAR.Plugins.LlamaGen;

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
