using IAR.Abstractions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace IAR.ContractTests;

/// <summary>
/// What every tokenizer must do. Derive, implement <see cref="CreateTokenizer"/> (small sizes keep the tests fast),
/// and xunit runs every check against your tokenizer.
/// </summary>
public abstract class TokenizerContractTests
{
    /// <summary>A fresh tokenizer with weights initialised from <paramref name="seed"/>.</summary>
    protected abstract ITokenizer CreateTokenizer(int seed);

    protected virtual int BatchSize => 2;

    [Fact]
    public void Encode_returns_int64_tokens_of_layout_length_within_vocabulary()
    {
        var tok = CreateTokenizer(0);
        tok.Module.eval();
        using var _ = torch.NewDisposeScope();
        var images = ContractSeeds.Images(BatchSize, tok.Info.Image);
        var tokens = tok.Encode(images);
        Assert.Equal(ScalarType.Int64, tokens.dtype);
        Assert.Equal(new long[] { BatchSize, tok.Info.Layout.SequenceLength }, tokens.shape);
        Assert.True(tokens.min().item<long>() >= 0, "a token index is negative");
        Assert.True(tokens.max().item<long>() < tok.Info.VocabularySize, "a token index is ≥ the vocabulary size");
    }

    [Fact]
    public void Decode_returns_images_of_the_input_shape_in_range()
    {
        var tok = CreateTokenizer(0);
        tok.Module.eval();
        using var _ = torch.NewDisposeScope();
        var tokens = ContractSeeds.Tokens(BatchSize, tok.Info.Layout.SequenceLength, tok.Info.VocabularySize);
        var images = tok.Decode(tokens);
        var s = tok.Info.Image;
        Assert.Equal(new long[] { BatchSize, s.Channels, s.Height, s.Width }, images.shape);
        Assert.True(images.min().item<float>() >= -1f && images.max().item<float>() <= 1f, "decoded images leave [-1, 1]");
    }

    [Fact]
    public void Codebook_and_lookup_agree_on_shapes()
    {
        var tok = CreateTokenizer(0);
        using var _ = torch.NewDisposeScope();
        Assert.Equal(new long[] { tok.Info.VocabularySize, tok.Info.CodeDim }, tok.Codebook.shape);
        var tokens = ContractSeeds.Tokens(BatchSize, tok.Info.Layout.SequenceLength, tok.Info.VocabularySize);
        Assert.Equal(new long[] { BatchSize, tok.Info.Layout.SequenceLength, tok.Info.CodeDim }, tok.LookupCodes(tokens).shape);
    }

    [Fact]
    public void Reconstruct_returns_images_tokens_and_finite_scalar_losses()
    {
        var tok = CreateTokenizer(0);
        tok.Module.train();
        using var _ = torch.NewDisposeScope();
        var images = ContractSeeds.Images(BatchSize, tok.Info.Image);
        var output = tok.Reconstruct(images);
        Assert.Equal(images.shape, output.Reconstruction.shape);
        Assert.Equal(new long[] { BatchSize, tok.Info.Layout.SequenceLength }, output.Tokens.shape);
        Assert.NotEmpty(tok.TrainingLossTerms);
        foreach (var term in tok.TrainingLossTerms)
        {
            var value = term.Compute(images, output);
            Assert.Equal(0, value.dim());
            Assert.True(double.IsFinite(value.item<float>()), $"loss term {term.Name} is not finite");
        }
    }

    [Fact]
    public void Same_seed_gives_same_weights_and_tokens()
    {
        var a = CreateTokenizer(7);
        var b = CreateTokenizer(7);
        a.Module.eval();
        b.Module.eval();
        using var _ = torch.NewDisposeScope();
        var images = ContractSeeds.Images(BatchSize, a.Info.Image);
        TensorAssert.Identical(a.Encode(images), b.Encode(images));
        TensorAssert.Identical(a.Decode(a.Encode(images)), b.Decode(b.Encode(images)));
    }

    [Fact]
    public void State_dict_round_trip_reproduces_outputs()
    {
        var a = CreateTokenizer(1);
        var b = CreateTokenizer(2);
        StateDictRoundTrip.Copy(a.Module, b.Module, "tokenizer");
        a.Module.eval();
        b.Module.eval();
        using var _ = torch.NewDisposeScope();
        var images = ContractSeeds.Images(BatchSize, a.Info.Image);
        TensorAssert.Identical(a.Encode(images), b.Encode(images));
        // Same weights and codes: bit-identical in practice; 1e-6 ≈ 8 float32 ulps (at magnitude 1) of slack for another kernel choice.
        TensorAssert.Close(a.Decode(a.Encode(images)), b.Decode(b.Encode(images)), 1e-6, 1e-6, "decoded images");
    }

    [Fact]
    public void Vocabulary_parameters_are_state_dict_entries_indexed_by_code()
    {
        var tok = CreateTokenizer(0);
        var state = tok.Module.state_dict();
        Assert.NotEmpty(tok.VocabularyParameters);
        foreach (var p in tok.VocabularyParameters)
        {
            Assert.True(state.ContainsKey(p.Name), $"{p.Name} is not a state-dict key");
            Assert.Equal(tok.Info.VocabularySize, p.Tensor.shape[p.Axis]);
        }
    }

    [Fact]
    public void Permuting_the_codebook_rows_permutes_the_indices()
    {
        var original = CreateTokenizer(1);
        // A decorator (the host's rearranged view) owns no tensors: its VocabularyParameters are the inner
        // tokenizer's in the inner numbering and must not be permuted, so this physical-permutation check is the
        // inner tokenizer's, run by that plugin's own contract tests.
        if (original is ITokenizerDecorator) return;
        var permuted = CreateTokenizer(2);
        StateDictRoundTrip.Copy(original.Module, permuted.Module, "tokenizer");
        var permutation = VocabularyPermutation.Random(original.Info.VocabularySize, seed: 17);
        permutation.Rearrange(permuted.VocabularyParameters);
        original.Module.eval();
        permuted.Module.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var declared = string.Join(", ", original.VocabularyParameters.Select(p => p.Name));
        // A row permutation copies values: exact.
        TensorAssert.Close(original.Codebook.index_select(0, permutation.NewToOld), permuted.Codebook, 0, 0,
            $"codebook after permuting the declared vocabulary parameters ({declared})");
        var images = ContractSeeds.Images(BatchSize, original.Info.Image);
        var tokens = original.Encode(images);
        TensorAssert.Identical(permutation.ToNew(tokens), permuted.Encode(images),
            $"indices after permuting the declared vocabulary parameters ({declared})");
        // The decoder sees the same code vectors: equal up to ~8 float32 ulps at magnitude 1.
        TensorAssert.Close(original.Decode(tokens), permuted.Decode(permutation.ToNew(tokens)), 1e-6, 1e-6,
            $"images decoded from permuted indices after permuting the declared vocabulary parameters ({declared})");
    }
}
