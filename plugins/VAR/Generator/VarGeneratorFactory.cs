using IAR.Abstractions;

namespace IAR.Plugins.VAR;

/// <summary>
/// Builds the VAR next-scale transformer for a VAR VQVAE tokenizer. Presets: the official <c>d16</c>, <c>d20</c>,
/// <c>d24</c>, <c>d30</c> (width depth·64, depth heads) and small ones, <c>VAR-S</c> for the quickstart and
/// <c>VAR-T</c> for tests.
/// </summary>
public sealed class VarGeneratorFactory : IGeneratorFactory
{
    public string Name => "VAR";

    public string Description => "VAR next-scale transformer with AdaLN (official key names)";

    public GeneratorKind Kind => GeneratorKind.NextScale;

    public IReadOnlyList<ModelPreset> Presets { get; } =
    [
        Official(16, "310.3M parameters with the official VQVAE and 1000 classes"),
        Official(20, "600.4M"),
        Official(24, "1.0B"),
        Official(30, "2.0B"),
        new("VAR-S", "small, for 32 px data: depth 4, width 128, 4 heads",
            new VarOptions { Depth = 4, EmbedDim = 128, NumHeads = 4, DropPathRate = 0 }),
        new("VAR-T", "tiny, for tests: depth 2, width 64, 2 heads",
            new VarOptions { Depth = 2, EmbedDim = 64, NumHeads = 2, DropPathRate = 0 }),
    ];

    static ModelPreset Official(int depth, string size) =>
        new($"d{depth}", $"official VAR-d{depth}: depth {depth}, width {depth * 64}, {depth} heads ({size})", VarOptions.FromDepth(depth));

    public IGenerator Create(GeneratorRequest request)
    {
        var preset = Presets.FirstOrDefault(p => p.Name == request.Preset)
            ?? throw new ConfigurationException(
                $"generator.preset '{request.Preset}' is not a VAR preset; accepted: {string.Join(", ", Presets.Select(p => p.Name))}.");
        var options = PresetOptions.Apply((VarOptions)preset.Options, request.Options, "generator.options");
        return new VarGenerator(options, preset.Name, request);
    }
}
