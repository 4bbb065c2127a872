using IAR.Abstractions;
using static TorchSharp.torch;

namespace IAR.Host.Data;

/// <summary>
/// Pre-tokenized images with their labels, in one index space (a generator's): a token cache, or a view of it
/// rearranged through a codebook permutation.
/// </summary>
public interface ITokenSource
{
    /// <summary>Number of images N.</summary>
    int Count { get; }

    /// <summary>Tokens per image L.</summary>
    int SequenceLength { get; }

    /// <summary>Encodings stored per image: 1, or 2 when the horizontally flipped image was encoded too.</summary>
    int Variants { get; }

    /// <summary>V: every token is in [0, V).</summary>
    int VocabularySize { get; }

    int NumClasses { get; }

    /// <summary><c>identity</c>, or the hash of the permutation the tokens were rearranged with (<c>iar.permutation</c>).</summary>
    string Permutation { get; }

    /// <summary>The tokens of images <paramref name="indices"/>, encoding <paramref name="variants"/> of each.</summary>
    /// <param name="indices">int64 [B] in [0, Count).</param>
    /// <param name="variants">int64 [B] in [0, Variants), or null for variant 0 (the image as stored).</param>
    /// <returns>Tokens int64 [B, L] and labels int64 [B], on the CPU; no labels dropped.</returns>
    TokenBatch Gather(Tensor indices, Tensor? variants = null);
}
