using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;

namespace IAR.Host.Training.Stages;

/// <summary>The keys under which the training stages hand results to later stages in <see cref="RunContext.Items"/>, with typed access.</summary>
public static class StageItems
{
    /// <summary><see cref="DatasetSplits"/>: training and held-out images.</summary>
    public const string Data = "data";

    /// <summary><see cref="ITokenizer"/>: the trained or loaded tokenizer in its own numbering (eval mode).</summary>
    public const string Tokenizer = "tokenizer";

    /// <summary><see cref="string"/>: the tokenizer's content hash (<see cref="ModelFingerprint"/>).</summary>
    public const string TokenizerHash = "tokenizer.hash";

    /// <summary><see cref="TokenCache"/>: the training images' tokens (with flipped variants when data.flip).</summary>
    public const string TrainTokens = "tokens.train";

    /// <summary><see cref="TokenCache"/>: the held-out images' tokens.</summary>
    public const string HeldOutTokens = "tokens.test";

    /// <summary><see cref="IReadOnlyList{T}"/> of <see cref="GeneratorTrainingResult"/>: every arm × seed, trained.</summary>
    public const string Generators = "generators";

    public static DatasetSplits DataOf(RunContext context) => context.Get<DatasetSplits>(Data);

    public static ITokenizer TokenizerOf(RunContext context) => context.Get<ITokenizer>(Tokenizer);

    public static string TokenizerHashOf(RunContext context) => context.Get<string>(TokenizerHash);

    public static TokenCache TrainTokensOf(RunContext context) => context.Get<TokenCache>(TrainTokens);

    public static TokenCache HeldOutTokensOf(RunContext context) => context.Get<TokenCache>(HeldOutTokens);

    public static IReadOnlyList<GeneratorTrainingResult> GeneratorsOf(RunContext context) =>
        context.Get<IReadOnlyList<GeneratorTrainingResult>>(Generators);
}
