using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.ContractTests;

/// <summary>
/// A real but trivial tokenizer of any vocabulary and token layout, so a generator's contract tests need no tokenizer
/// plugin and no host. Images are one channel of <c>grid × Patch</c> pixels; code i is row i of a [V, D] codebook whose
/// first column holds V grey levels from −1 to 1 (the rest seeded noise, so code vectors are distinct in every
/// dimension). A token is the nearest level to the mean of its cell, on every scale of the layout (coarse scales see
/// larger cells); decoding paints the finest scale's levels.
/// </summary>
public sealed class StubTokenizer : ITokenizer
{
    /// <summary>Pixels per token side on the finest grid.</summary>
    public const int Patch = 2;

    readonly CodebookModule module;

    public StubTokenizer(int vocabularySize, TokenLayout layout, int codeDim = 8)
    {
        if (vocabularySize < 2) throw new ArgumentException($"A stub tokenizer needs at least 2 codes, not {vocabularySize}.", nameof(vocabularySize));
        if (codeDim < 1) throw new ArgumentException($"The code dimension must be positive, not {codeDim}.", nameof(codeDim));
        module = new CodebookModule(vocabularySize, codeDim);
        var g = layout.FinalGrid;
        Info = new TokenizerInfo("Stub", $"V{vocabularySize}", vocabularySize, codeDim, layout,
            new ImageShape(1, g.Height * Patch, g.Width * Patch));
    }

    /// <summary>A single <paramref name="height"/>×<paramref name="width"/> grid (next-token models).</summary>
    public static StubTokenizer Grid(int vocabularySize, int height, int width) => new(vocabularySize, TokenLayout.Grid(height, width));

    sealed class CodebookModule : nn.Module
    {
        public readonly TorchSharp.Modules.Parameter embedding;

        public CodebookModule(int vocabularySize, int codeDim) : base("StubTokenizer")
        {
            using var g = new torch.Generator(7);
            var levels = torch.linspace(-1, 1, vocabularySize).unsqueeze(1);                   // [V, 1]
            var rest = torch.randn([vocabularySize, codeDim - 1], generator: g);               // [V, D − 1]
            embedding = nn.Parameter(torch.cat([levels, rest], 1), requires_grad: false);
            RegisterComponents();
        }
    }

    public TokenizerInfo Info { get; }

    public nn.Module Module => module;

    public Tensor Codebook => module.embedding.detach().clone();

    public IReadOnlyList<VocabularyParameter> VocabularyParameters => [new("embedding", module.embedding, 0)];

    public IReadOnlyList<ITokenizerLossTerm> TrainingLossTerms => [new ReconstructionL2()];

    sealed class ReconstructionL2 : ITokenizerLossTerm
    {
        public string Name => "reconstruction_l2";

        public double Weight => 1;

        public Tensor Compute(Tensor images, TokenizerOutput output) => (output.Reconstruction - images).pow(2).mean();
    }

    public Tensor Encode(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var grey = images.mean([1], keepdim: true);                                            // [B, 1, H, W]
        var levels = module.embedding.detach()[.., 0];                                          // [V]
        var scales = Info.Layout.Scales.Select(s =>
            nn.functional.adaptive_avg_pool2d(grey, [s.Height, s.Width]).flatten(1));          // [B, h·w] each
        var means = torch.cat(scales.ToArray(), 1);                                             // [B, L]
        return (means.unsqueeze(-1) - levels).abs().argmin(-1).MoveToOuterDisposeScope();     // [B, L]
    }

    public Tensor LookupCodes(Tensor tokens) =>
        module.embedding.index_select(0, tokens.flatten()).reshape([.. tokens.shape, Info.CodeDim]);

    public Tensor Decode(Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        var g = Info.Layout.FinalGrid;
        var finest = tokens[.., (Info.Layout.SequenceLength - g.Count)..];                       // [B, h·w]
        var grid = LookupCodes(finest)[.., .., 0].reshape(tokens.shape[0], 1, g.Height, g.Width);
        var image = nn.functional.interpolate(grid, scale_factor: [Patch, Patch], mode: InterpolationMode.Nearest);
        return image.clamp(-1, 1).MoveToOuterDisposeScope();                                    // [B, 1, H, W]
    }

    public TokenizerOutput Reconstruct(Tensor images)
    {
        var tokens = Encode(images);
        return new TokenizerOutput(Decode(tokens), tokens, new Dictionary<string, Tensor>());
    }
}
