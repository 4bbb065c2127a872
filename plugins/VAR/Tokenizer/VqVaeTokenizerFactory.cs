using IAR.Abstractions;

namespace IAR.Plugins.VAR;

/// <summary>
/// Builds VAR's multi-scale VQVAE. Presets: the official <c>vae_ch160v4096z32</c> (256 px, 10 scales) and small ones
/// for 32 px data (Fashion-MNIST padded to 32): <c>VQVAE-S</c> for the quickstart, <c>VQVAE-T</c> for tests.
/// </summary>
public sealed class VqVaeTokenizerFactory : ITokenizerFactory
{
    public string Name => "VQVAE";

    public string Description => "VAR multi-scale residual VQVAE (official key names)";

    public IReadOnlyList<ModelPreset> Presets { get; } =
    [
        new("vae_ch160v4096z32", "official VAR VQVAE: 256 px, 4096×32 codebook, 10 scales 1..16, 108.9M parameters",
            new VqVaeOptions()),
        new("VQVAE-S", "small: 32 px → 8×8 latent, 1024×16 codebook, scales 1,2,3,4,6,8 (L = 130)",
            new VqVaeOptions
            {
                VocabSize = 1024, ZChannels = 16, Ch = 32, ChMult = [1, 1, 2], NumResBlocks = 1,
                VPatchNums = [1, 2, 3, 4, 6, 8], CodebookInit = 0.1,
            }),
        new("VQVAE-T", "tiny, for tests: 32 px → 4×4 latent, 64×8 codebook, scales 1,2,3,4 (L = 30)",
            new VqVaeOptions
            {
                VocabSize = 64, ZChannels = 8, Ch = 32, ChMult = [1, 1, 1, 1], NumResBlocks = 1,
                VPatchNums = [1, 2, 3, 4], UsingSa = false, CodebookInit = 0.1,
            }),
    ];

    public ITokenizer Create(TokenizerRequest request)
    {
        var preset = Presets.FirstOrDefault(p => p.Name == request.Preset)
            ?? throw new ConfigurationException(
                $"tokenizer.preset '{request.Preset}' is not a VQVAE preset; accepted: {string.Join(", ", Presets.Select(p => p.Name))}.");
        var options = PresetOptions.Apply((VqVaeOptions)preset.Options, request.Options, "tokenizer.options");
        return new VqVaeTokenizer(options, preset.Name, request.Image);
    }
}
