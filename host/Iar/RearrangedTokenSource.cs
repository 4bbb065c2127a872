using IAR.Host.Data;
using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// A token source rearranged through a codebook permutation: token t becomes old_to_new[t]. This is how a
/// rearranged (IAR) arm trains on the cache its baseline shares, without encoding the data again.
/// </summary>
public sealed class RearrangedTokenSource : ITokenSource, IDisposable
{
    readonly ITokenSource inner;
    readonly Tensor oldToNew;   // int64 [V]

    /// <param name="oldToNew">int64 [V], a permutation of 0 … V−1 (copied).</param>
    /// <param name="permutation">Its hash (<c>CodebookPermutation.Hash</c>), recorded in checkpoints.</param>
    /// <exception cref="ArgumentException"><paramref name="oldToNew"/> is not a permutation of the source's vocabulary.</exception>
    public RearrangedTokenSource(ITokenSource inner, Tensor oldToNew, string permutation)
    {
        if (inner.Permutation != TokenCache.IdentityPermutation)
            throw new ArgumentException($"The token source is already rearranged (permutation {inner.Permutation}); rearrange the original cache instead.");
        if (oldToNew.dtype != ScalarType.Int64 || oldToNew.dim() != 1 || oldToNew.shape[0] != inner.VocabularySize)
            throw new ArgumentException($"old_to_new must be int64 [{inner.VocabularySize}], not {oldToNew.dtype} [{string.Join(", ", oldToNew.shape)}].");
        using (var sorted = oldToNew.sort().Values)
        using (var range = torch.arange(inner.VocabularySize, dtype: ScalarType.Int64))
            if (!sorted.cpu().eq(range).all().item<bool>())
                throw new ArgumentException($"old_to_new is not a permutation of 0 … {inner.VocabularySize - 1}.");
        if (permutation == TokenCache.IdentityPermutation)
            throw new ArgumentException("A rearranged source needs the permutation's hash, not 'identity'.");
        this.inner = inner;
        this.oldToNew = oldToNew.detach().cpu().clone();
        Permutation = permutation;
    }

    public int Count => inner.Count;

    public int SequenceLength => inner.SequenceLength;

    public int Variants => inner.Variants;

    public int VocabularySize => inner.VocabularySize;

    public int NumClasses => inner.NumClasses;

    public string Permutation { get; }

    public TokenBatch Gather(Tensor indices, Tensor? variants = null)
    {
        var original = inner.Gather(indices, variants);
        using var tokens = original.Tokens;
        var rearranged = oldToNew.index_select(0, tokens.flatten()).view(tokens.shape);
        return original with { Tokens = rearranged };
    }

    public void Dispose() => oldToNew.Dispose();
}
