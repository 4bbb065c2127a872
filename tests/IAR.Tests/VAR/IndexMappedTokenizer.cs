using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.VAR;

/// <summary>
/// A minimal test-local renumbering decorator: new index n is the inner tokenizer's index newToOld[n]. It maps indices
/// at the tokenizer boundary only, as IAR's rearranged tokenizer does, so a generator that respects the boundary
/// behaves identically under it.
/// </summary>
internal sealed class IndexMappedTokenizer : ITokenizerDecorator
{
    readonly Tensor newToOld;
    readonly Tensor oldToNew;

    public IndexMappedTokenizer(ITokenizer inner, Tensor newToOld)
    {
        Inner = inner;
        this.newToOld = newToOld;
        oldToNew = torch.empty_like(newToOld).index_put_(torch.arange(newToOld.shape[0]), newToOld);
    }

    public ITokenizer Inner { get; }

    public TokenizerInfo Info => Inner.Info with { Preset = Inner.Info.Preset + "+mapped" };

    public nn.Module Module => Inner.Module;

    public Tensor Codebook => Inner.Codebook.index_select(0, newToOld);

    public IReadOnlyList<VocabularyParameter> VocabularyParameters => Inner.VocabularyParameters;

    public IReadOnlyList<ITokenizerLossTerm> TrainingLossTerms => Inner.TrainingLossTerms;

    public Tensor ToNew(Tensor oldIndices) => oldToNew[oldIndices];

    public Tensor Encode(Tensor images) => ToNew(Inner.Encode(images));

    public Tensor Decode(Tensor tokens) => Inner.Decode(newToOld[tokens]);

    public Tensor LookupCodes(Tensor tokens) => Inner.LookupCodes(newToOld[tokens]);

    public TokenizerOutput Reconstruct(Tensor images)
    {
        var output = Inner.Reconstruct(images);
        return output with { Tokens = ToNew(output.Tokens) };
    }
}
