using IAR.Abstractions;
using Microsoft.Extensions.DependencyInjection;

namespace IAR.Plugins.TinyGpt;

/// <summary>The plugin's one entry type: the host finds it by reflection and asks it to register its factories.</summary>
public sealed class TinyGptPlugin : IIarPlugin
{
    public string Name => "TinyGpt";

    public string Description => "Template: a tiny causal transformer (next-token) over any tokenizer's indices.";

    public void ConfigureServices(IServiceCollection services) => services.AddSingleton<IGeneratorFactory, TinyGptFactory>();
}

/// <summary>Every knob of the model; presets are named instances, YAML options override them by snake_case name.</summary>
public sealed record TinyGptOptions
{
    public int Dim { get; init; } = 64;

    public int NLayer { get; init; } = 2;

    public int NHead { get; init; } = 4;

    /// <exception cref="ConfigurationException">A value the model cannot be built with (the key is named).</exception>
    public void Validate(string key)
    {
        if (Dim < 1 || NLayer < 1 || NHead < 1)
            throw new ConfigurationException($"{key}: dim, n_layer and n_head must be positive (dim={Dim}, n_layer={NLayer}, n_head={NHead}).");
        if (Dim % NHead != 0)
            throw new ConfigurationException($"{key}.n_head = {NHead} does not divide dim = {Dim}; a divisor of dim is accepted.");
    }
}

public sealed class TinyGptFactory : IGeneratorFactory
{
    public string Name => "TinyGpt";

    public string Description => "Pre-norm causal transformer with learned positions, class token first.";

    public GeneratorKind Kind => GeneratorKind.NextToken;

    public IReadOnlyList<ModelPreset> Presets { get; } =
    [
        new("tiny", "dim 32, 2 layers, 4 heads (tests)", new TinyGptOptions { Dim = 32 }),
        new("small", "dim 64, 2 layers, 4 heads", new TinyGptOptions()),
    ];

    /// <summary>
    /// Builds fresh weights from the global generator, which the host seeds (torch.manual_seed) right before this call.
    /// </summary>
    public IGenerator Create(GeneratorRequest request)
    {
        var preset = Presets.FirstOrDefault(p => p.Name == request.Preset)
                     ?? throw new ConfigurationException($"Unknown TinyGpt preset '{request.Preset}'; available: {string.Join(", ", Presets.Select(p => p.Name))}.");
        var options = PresetOptions.Apply((TinyGptOptions)preset.Options, request.Options, "generator.options");
        options.Validate("generator.options");
        return new TinyGptGenerator(options, request);
    }
}
