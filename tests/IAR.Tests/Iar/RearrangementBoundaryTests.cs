using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Iar;
using IAR.Host.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>
/// The edges of the rearrangement pieces: what a rearranged token source passes through unchanged and what it refuses,
/// which vocabulary axes <see cref="VocabularyRearrangement"/> accepts, and that a rearranged state dict leaves the
/// other entries alone.
/// </summary>
public class RearrangementBoundaryTests
{
    /// <summary>Tokens [Count, Variants, L] held in memory; identity numbering.</summary>
    sealed class ArrayTokenSource(long[,,] tokens, int vocabulary, int classes) : ITokenSource
    {
        public int Count => tokens.GetLength(0);
        public int SequenceLength => tokens.GetLength(2);
        public int Variants => tokens.GetLength(1);
        public int VocabularySize => vocabulary;
        public int NumClasses => classes;
        public string Permutation => TokenCache.IdentityPermutation;

        public TokenBatch Gather(Tensor indices, Tensor? variants = null)
        {
            var rows = indices.data<long>().ToArray();
            var chosen = variants?.data<long>().ToArray() ?? new long[rows.Length];
            var flat = new long[rows.Length * SequenceLength];
            for (int b = 0; b < rows.Length; b++)
                for (int l = 0; l < SequenceLength; l++) flat[b * SequenceLength + l] = tokens[rows[b], chosen[b], l];
            return new TokenBatch(torch.tensor(flat).reshape(rows.Length, SequenceLength), torch.tensor(rows));
        }
    }

    static ArrayTokenSource Source() => new(new long[,,]
    {
        { { 0, 1, 2 }, { 3, 3, 0 } },
        { { 2, 2, 1 }, { 1, 0, 3 } },
    }, vocabulary: 4, classes: 7);

    [Fact]
    public void A_rearranged_source_maps_every_variant_and_passes_the_rest_through()
    {
        var inner = Source();
        using var oldToNew = torch.tensor(new long[] { 2, 0, 3, 1 });
        using var source = new RearrangedTokenSource(inner, oldToNew, "00ff00ff00ff00ff");
        Assert.Equal((2, 3, 2, 4, 7), (source.Count, source.SequenceLength, source.Variants, source.VocabularySize, source.NumClasses));
        Assert.Equal("00ff00ff00ff00ff", source.Permutation);
        using var indices = torch.tensor(new long[] { 1, 0 });
        using var variants = torch.tensor(new long[] { 1, 1 });
        var batch = source.Gather(indices, variants);
        // inner rows: [1, 0, 3] and [3, 3, 0] → old_to_new.
        Assert.Equal(new long[] { 0, 2, 1, 1, 1, 2 }, batch.Tokens.data<long>().ToArray());
        Assert.Equal([2L, 3L], batch.Tokens.shape);
        Assert.Equal(new long[] { 1, 0 }, batch.Labels.data<long>().ToArray());
        // The table is a copy: changing the caller's tensor afterwards changes nothing.
        oldToNew.fill_(0);
        Assert.Equal(new long[] { 0, 2, 1, 1, 1, 2 }, source.Gather(indices, variants).Tokens.data<long>().ToArray());
    }

    [Fact]
    public void A_table_that_is_not_an_int64_permutation_of_the_vocabulary_or_the_identity_hash_is_refused()
    {
        var inner = Source();
        string Refused(Tensor table, string hash = "abc") =>
            Assert.Throws<ArgumentException>(() => new RearrangedTokenSource(inner, table, hash)).Message;
        Assert.Contains("int64 [4]", Refused(torch.tensor(new[] { 2, 0, 3, 1 })));                 // int32
        Assert.Contains("int64 [4]", Refused(torch.tensor(new long[] { 2, 0, 3, 1 }).reshape(2, 2)));
        Assert.Contains("int64 [4]", Refused(torch.tensor(new long[] { 2, 0, 1 })));
        Assert.Contains("not a permutation of 0 … 3", Refused(torch.tensor(new long[] { 1, 2, 3, 4 })));
        Assert.Contains("not a permutation of 0 … 3", Refused(torch.tensor(new long[] { 0, 0, 2, 3 })));
        Assert.Contains("not 'identity'", Refused(torch.tensor(new long[] { 2, 0, 3, 1 }), TokenCache.IdentityPermutation));
    }

    [Fact]
    public void Vocabulary_axes_out_of_range_or_of_the_wrong_length_are_refused_by_name()
    {
        var p = CodebookPermutation.FromNewToOld([2, 0, 1]);
        using var matrix = torch.zeros(3, 5);
        string Refused(VocabularyParameter v) =>
            Assert.Throws<InvalidOperationException>(() => VocabularyRearrangement.Rearrange([v], p)).Message;
        Assert.Contains("'w' [3, 5] has no axis -1 of 3", Refused(new("w", matrix, -1)));
        Assert.Contains("no axis 2 of 3", Refused(new("w", matrix, 2)));
        Assert.Contains("no axis 1 of 3", Refused(new("w", matrix, 1)));
        Assert.Throws<InvalidOperationException>(() => VocabularyRearrangement.Restore([new("w", matrix, 1)], p));
    }

    [Fact]
    public void Rearranging_along_axis_one_moves_columns_and_restoring_moves_them_back()
    {
        var p = CodebookPermutation.FromNewToOld([2, 0, 1]);
        using var weights = torch.tensor(new float[] { 0, 1, 2, 10, 11, 12 }).reshape(2, 3);
        VocabularyRearrangement.Rearrange([new("w", weights, 1)], p);
        Assert.Equal(new float[] { 2, 0, 1, 12, 10, 11 }, weights.data<float>().ToArray());
        VocabularyRearrangement.Restore([new("w", weights, 1)], p);
        Assert.Equal(new float[] { 0, 1, 2, 10, 11, 12 }, weights.data<float>().ToArray());
    }

    sealed class TwoTensors : nn.Module
    {
        public readonly TorchSharp.Modules.Parameter head = new(torch.tensor(new float[] { 0, 1, 2, 3 }));
        public readonly TorchSharp.Modules.Parameter other = new(torch.tensor(new float[] { 5, 6 }));

        public TwoTensors() : base("two") => RegisterComponents();
    }

    [Fact]
    public void A_rearranged_state_dict_permutes_only_the_declared_entries_and_names_an_unknown_one()
    {
        var module = new TwoTensors();
        var p = CodebookPermutation.FromNewToOld([3, 1, 0, 2]);
        var state = VocabularyRearrangement.RearrangedStateDict(module, [new("head", module.head, 0)], p);
        Assert.Equal(new float[] { 3, 1, 0, 2 }, state["head"].data<float>().ToArray());
        Assert.Equal(new float[] { 0, 1, 2, 3 }, module.head.data<float>().ToArray());   // the module is untouched
        Assert.Equal(new float[] { 5, 6 }, state["other"].data<float>().ToArray());
        Assert.Equal(2, state.Count);

        using var stray = torch.zeros(4);
        var e = Assert.Throws<InvalidOperationException>(() =>
            VocabularyRearrangement.RearrangedStateDict(module, [new("bias", stray, 0)], p));
        Assert.Contains("'bias' is not a key", e.Message);
        Assert.Throws<InvalidOperationException>(() =>
            VocabularyRearrangement.RearrangedStateDict(module, [new("other", module.other, 0)], p));
    }
}
