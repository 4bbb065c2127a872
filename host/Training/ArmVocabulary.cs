using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Training.Stages;

namespace IAR.Host.Training;

/// <summary>
/// The index space an arm's generator works in: the tokenizer as the generator sees it, the cached tokens renumbered
/// into that space, and the permutation linking it to the cache (<c>identity</c> for the original numbering).
/// IAR supplies a rearranged tokenizer and <see cref="RemappedTokenSource"/>s; the baseline uses <see cref="Original"/>.
/// </summary>
/// <param name="Tokenizer">The tokenizer in this numbering (an IAR decorator when rearranged); generators are built for it.</param>
/// <param name="Train">Training tokens in this numbering.</param>
/// <param name="HeldOut">Held-out tokens in this numbering (for token-level evaluation).</param>
/// <param name="Permutation"><c>identity</c> or <c>CodebookPermutation.Hash</c>; recorded in checkpoints.</param>
public sealed record ArmVocabulary(ITokenizer Tokenizer, ITokenSource Train, ITokenSource HeldOut, string Permutation)
{
    /// <summary>The tokenizer and caches of the earlier stages, unchanged.</summary>
    public static ArmVocabulary Original(RunContext context) =>
        new(StageItems.TokenizerOf(context), StageItems.TrainTokensOf(context), StageItems.HeldOutTokensOf(context), TokenCache.IdentityPermutation);
}
