using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// A tokenizer seen through a codebook permutation: <see cref="Encode"/> returns new indices
/// (<c>old_to_new[inner.Encode(x)]</c>), <see cref="Decode"/> and <see cref="LookupCodes"/> map new indices back
/// (<c>new_to_old</c>) before calling the inner tokenizer, and <see cref="Codebook"/> is <c>codebook[new_to_old]</c>.
/// The inner tokenizer and its weights are untouched, so the view works for any plugin whatever its internals, and
/// encode → decode gives exactly the inner tokenizer's images.
/// <para>
/// <see cref="Module"/> and <see cref="VocabularyParameters"/> are the inner tokenizer's, in the ORIGINAL numbering
/// (the decorator owns no tensors; do not rearrange them, the decorator already maps indices). A rearranged checkpoint
/// (the codebook rows physically permuted, as the official code saves it) comes from <see cref="SaveCheckpoint"/>;
/// <see cref="Load"/> reads either kind back.
/// </para>
/// </summary>
public sealed class RearrangedTokenizer : ITokenizerDecorator
{
    /// <exception cref="ArgumentException">The permutation is for a different vocabulary size.</exception>
    public RearrangedTokenizer(ITokenizer inner, CodebookPermutation permutation)
    {
        if (permutation.Count != inner.Info.VocabularySize)
            throw new ArgumentException(
                $"The permutation rearranges {permutation.Count} codes but {inner.Info.Plugin}/{inner.Info.Preset} has {inner.Info.VocabularySize}.",
                nameof(permutation));
        Inner = inner;
        Permutation = permutation;
    }

    public ITokenizer Inner { get; }

    public CodebookPermutation Permutation { get; }

    public TokenizerInfo Info => Inner.Info;

    public nn.Module Module => Inner.Module;

    public Tensor Codebook
    {
        get
        {
            using var original = Inner.Codebook;
            return Permutation.Rearrange(original);
        }
    }

    /// <summary>The inner tokenizer's codebook-indexed tensors, in the original numbering (like <see cref="Module"/>).</summary>
    public IReadOnlyList<VocabularyParameter> VocabularyParameters => Inner.VocabularyParameters;

    public IReadOnlyList<ITokenizerLossTerm> TrainingLossTerms => Inner.TrainingLossTerms;

    public Tensor Encode(Tensor images)
    {
        using var old = Inner.Encode(images);
        return Permutation.ToNew(old);
    }

    public Tensor Decode(Tensor tokens)
    {
        using var old = Permutation.ToOld(tokens);
        return Inner.Decode(old);
    }

    public Tensor LookupCodes(Tensor tokens)
    {
        using var old = Permutation.ToOld(tokens);
        return Inner.LookupCodes(old);
    }

    public TokenizerOutput Reconstruct(Tensor images)
    {
        var output = Inner.Reconstruct(images);
        var tokens = Permutation.ToNew(output.Tokens);
        output.Tokens.Dispose();
        return output with { Tokens = tokens };
    }

    /// <summary>
    /// Writes the inner tokenizer's state dict with every vocabulary-indexed tensor in the new order, and
    /// <c>iar.permutation</c> in its metadata: what the official code saves as the reordered VQ checkpoint.
    /// </summary>
    public void SaveCheckpoint(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = torch.NewDisposeScope();
        var state = VocabularyRearrangement.RearrangedStateDict(Inner.Module, Inner.VocabularyParameters, Permutation);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            [CodebookPermutation.MetadataKey] = Permutation.Hash,
        };
        SafeTensorsWriter.Write(path, state, meta);
    }

    /// <summary>
    /// Loads a tokenizer checkpoint into <paramref name="inner"/> and wraps it: a checkpoint in the original numbering
    /// (no <c>iar.permutation</c>, or <c>identity</c>) is loaded as it is; one saved by <see cref="SaveCheckpoint"/> with
    /// this permutation has its vocabulary tensors put back into the original order first.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint follows a different permutation, or does not fit the tokenizer.</exception>
    public static RearrangedTokenizer Load(ITokenizer inner, string path, CodebookPermutation permutation)
    {
        var metadata = SafeTensorsFile.Open(path).Metadata;
        bool original = CodebookPermutation.RecordedHash(metadata) == CodebookPermutation.IdentityHash;
        if (!original) permutation.RequireRecordedIn(metadata, path);
        StateDict.Load(inner.Module, path, $"{inner.Info.Plugin}/{inner.Info.Preset}");
        if (!original) VocabularyRearrangement.Restore(inner.VocabularyParameters, permutation);
        return new RearrangedTokenizer(inner, permutation);
    }
}
