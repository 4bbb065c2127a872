using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.ContractTests;

/// <summary>
/// A seeded permutation of V vocabulary indices, the contract tests' stand-in for the host's codebook rearrangement:
/// new index i holds old index <see cref="NewToOld"/>[i].
/// </summary>
public sealed class VocabularyPermutation
{
    VocabularyPermutation(Tensor newToOld)
    {
        NewToOld = newToOld;
        OldToNew = newToOld.argsort();
    }

    /// <summary>int64 [V]: the old index each new index holds.</summary>
    public Tensor NewToOld { get; }

    /// <summary>int64 [V]: the new index of each old index.</summary>
    public Tensor OldToNew { get; }

    public static VocabularyPermutation Random(int vocabularySize, long seed)
    {
        using var g = new torch.Generator((ulong)seed);
        return new VocabularyPermutation(torch.randperm(vocabularySize, generator: g));
    }

    /// <summary>Old indices of any shape → new indices.</summary>
    public Tensor ToNew(Tensor tokens) => OldToNew.to(tokens.device).index_select(0, tokens.flatten()).reshape(tokens.shape);

    /// <summary>New indices of any shape → old indices.</summary>
    public Tensor ToOld(Tensor tokens) => NewToOld.to(tokens.device).index_select(0, tokens.flatten()).reshape(tokens.shape);

    /// <summary>Permutes each tensor in place along its vocabulary axis: <c>t = t.index_select(axis, new_to_old)</c>.</summary>
    public void Rearrange(IEnumerable<VocabularyParameter> parameters)
    {
        using var _ = torch.no_grad();
        foreach (var p in parameters)
        {
            using var reordered = p.Tensor.index_select(p.Axis, NewToOld.to(p.Tensor.device));
            p.Tensor.copy_(reordered);
        }
    }
}

/// <summary>
/// A view of a tokenizer in permuted numbering (index-based calls mapped through the permutation), for generators
/// that read their input through the tokenizer (VAR's next-scale input is built from code vectors).
/// </summary>
public sealed class PermutedTokenizer(ITokenizer inner, VocabularyPermutation permutation) : ITokenizerDecorator
{
    public ITokenizer Inner => inner;

    public TokenizerInfo Info => inner.Info;

    public nn.Module Module => inner.Module;

    public Tensor Codebook
    {
        get
        {
            using var codebook = inner.Codebook;
            return codebook.index_select(0, permutation.NewToOld.to(codebook.device));
        }
    }

    /// <summary>None: the view renumbers; the inner tokenizer's tensors stay in their own order.</summary>
    public IReadOnlyList<VocabularyParameter> VocabularyParameters => [];

    public IReadOnlyList<ITokenizerLossTerm> TrainingLossTerms => inner.TrainingLossTerms;

    public Tensor Encode(Tensor images) => permutation.ToNew(inner.Encode(images));

    public Tensor Decode(Tensor tokens) => inner.Decode(permutation.ToOld(tokens));

    public Tensor LookupCodes(Tensor tokens) => inner.LookupCodes(permutation.ToOld(tokens));

    public TokenizerOutput Reconstruct(Tensor images)
    {
        var output = inner.Reconstruct(images);
        return output with { Tokens = permutation.ToNew(output.Tokens) };
    }
}
