using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>How much of a codebook a set of token indices uses.</summary>
/// <param name="UsedCodes">Distinct indices that occur.</param>
/// <param name="VocabularySize">V.</param>
/// <param name="Perplexity">exp(entropy) of the index frequencies: the effective number of codes in use (1 … V).</param>
public sealed record CodebookUsage(long UsedCodes, int VocabularySize, double Perplexity)
{
    /// <summary>UsedCodes / V.</summary>
    public double Fraction => (double)UsedCodes / VocabularySize;

    /// <summary>The usage of int64 indices of any shape, all in [0, <paramref name="vocabularySize"/>).</summary>
    public static CodebookUsage Of(Tensor indices, int vocabularySize)
    {
        using var scope = torch.NewDisposeScope();
        var counts = torch.bincount(indices.flatten(), minlength: vocabularySize).to(ScalarType.Float64);   // [V]
        var p = counts / counts.sum().clamp_min(1);
        var entropy = -(p * p.clamp_min(1e-300).log()).sum();
        return new CodebookUsage(counts.gt(0).sum().item<long>(), vocabularySize, Math.Exp(entropy.item<double>()));
    }
}
