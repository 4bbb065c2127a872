using IAR.Abstractions;
using IAR.Host.Clustering;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Decorators;

/// <summary>
/// A generator whose vocabulary follows a codebook permutation. Fresh generators need no decorator (they simply train on
/// rearranged tokens); this one takes a generator trained on the ORIGINAL numbering and renumbers its
/// vocabulary-indexed tensors in place (token-embedding rows, output-head rows and bias), so that with the
/// <see cref="RearrangedTokenizer"/> it computes exactly what it computed before:
/// <list type="bullet">
/// <item>teacher forcing: <c>logits_new[..., j] = logits_old[..., new_to_old[j]]</c> for <c>tokens_new = old_to_new[tokens_old]</c>;</item>
/// <item>greedy / top-k 1 sampling: the same images, token for token mapped;</item>
/// <item>multinomial sampling: the same distribution over images, but not the same draw: the sampler walks the
/// cumulative distribution in index order, so the same random numbers land on different codes once the order
/// changes.</item>
/// </list>
/// Its state dict is in the new numbering; <see cref="SaveCheckpoint"/> records the permutation so that
/// <see cref="Load"/> never applies it twice or pairs it with the wrong tokenizer.
/// </summary>
public sealed class RearrangedGenerator : IGenerator
{
    RearrangedGenerator(IGenerator inner, CodebookPermutation permutation)
    {
        if (permutation.Count != inner.Info.VocabularySize)
            throw new ArgumentException(
                $"The permutation renumbers {permutation.Count} codes but {inner.Info.Plugin}/{inner.Info.Preset} predicts {inner.Info.VocabularySize}.",
                nameof(permutation));
        Inner = inner;
        Permutation = permutation;
    }

    /// <summary>Renumbers a generator trained on the original numbering (its tensors are changed in place).</summary>
    public static RearrangedGenerator FromPretrained(IGenerator inner, CodebookPermutation permutation)
    {
        var generator = new RearrangedGenerator(inner, permutation);
        VocabularyRenumbering.Rearrange(inner.VocabularyParameters, permutation);
        return generator;
    }

    /// <summary>
    /// Loads a generator checkpoint into <paramref name="inner"/>: one in the original numbering (no
    /// <c>iar.permutation</c>, or <c>identity</c>) is renumbered; one already saved with this permutation is used as is.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint follows a different permutation, or does not fit the generator.</exception>
    public static RearrangedGenerator Load(IGenerator inner, string path, CodebookPermutation permutation)
    {
        var metadata = SafeTensorsFile.Open(path).Metadata;
        bool original = CodebookPermutation.RecordedHash(metadata) == CodebookPermutation.IdentityHash;
        if (!original) permutation.RequireRecordedIn(metadata, path);
        StateDict.Load(inner.Module, path, $"{inner.Info.Plugin}/{inner.Info.Preset}");
        return original ? FromPretrained(inner, permutation) : new RearrangedGenerator(inner, permutation);
    }

    public IGenerator Inner { get; }

    public CodebookPermutation Permutation { get; }

    public GeneratorInfo Info => Inner.Info;

    public nn.Module Module => Inner.Module;

    /// <summary>The inner generator's tensors, now in the new numbering.</summary>
    public IReadOnlyList<VocabularyParameter> VocabularyParameters => Inner.VocabularyParameters;

    public GeneratorOutput Forward(TokenBatch batch) => Inner.Forward(batch);

    public Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator) =>
        Inner.Generate(labels, options, generator);

    /// <summary>Writes the state dict (new numbering) with <c>iar.permutation</c> in its metadata.</summary>
    public void SaveCheckpoint(string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        StateDict.Save(Module, path, new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            [CodebookPermutation.MetadataKey] = Permutation.Hash,
        });
}
