using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>The contract tests run against the decorator wrapped around a plugin the host has never seen.</summary>
public sealed class RearrangedTokenizerContractTests : TokenizerContractTests
{
    protected override ITokenizer CreateTokenizer(int seed)
    {
        var inner = FixturePluginCatalog.Tokenizer(seed);
        return new RearrangedTokenizer(inner, RearrangedTokenizerTests.Shuffle(inner.Info.VocabularySize, 123));
    }
}

public class RearrangedTokenizerTests
{
    internal static CodebookPermutation Shuffle(int count, ulong seed)
    {
        using var g = new torch.Generator(seed);
        using var perm = torch.randperm(count, ScalarType.Int64, generator: g);
        return CodebookPermutation.FromTensor(perm);
    }

    internal static RearrangementPlan PlanFor(ITokenizer tokenizer, int clusterSize)
    {
        using var codebook = tokenizer.Codebook;
        return CodebookRearrangement.Plan(new IarSpec { Enabled = true, ClusterSize = clusterSize, Normalize = false }, codebook, seed: 0);
    }

    [Fact]
    public void Encode_gives_new_indices_and_decoding_them_gives_the_same_images()
    {
        var inner = FixturePluginCatalog.Tokenizer(0);
        var plan = PlanFor(inner, 4);
        var rearranged = new RearrangedTokenizer(inner, plan.Permutation);
        using var scope = torch.NewDisposeScope();
        var images = ContractSeeds.Images(3, inner.Info.Image);
        var old = inner.Encode(images);
        var tokens = rearranged.Encode(images);
        TensorAssert.Identical(plan.Permutation.ToNew(old), tokens);
        TensorAssert.Identical(inner.Decode(old), rearranged.Decode(tokens));
        TensorAssert.Identical(inner.LookupCodes(old), rearranged.LookupCodes(tokens));
        TensorAssert.Identical(inner.Codebook.index_select(0, plan.Permutation.NewToOldTensor()), rearranged.Codebook);
        TensorAssert.Identical(tokens, rearranged.Reconstruct(images).Tokens);
        Assert.Same(inner, ((ITokenizerDecorator)rearranged).Inner);
    }

    [Fact]
    public void Rearrangement_the_plugin_tensors_in_place_agrees_with_the_view()
    {
        // Checks that the plugin's VocabularyParameters are complete: physically permuted weights must encode to the
        // same new indices that the decorator computes.
        var inner = FixturePluginCatalog.Tokenizer(0);
        var view = new RearrangedTokenizer(inner, Shuffle(16, 4));
        var physical = FixturePluginCatalog.Tokenizer(0);
        StateDictRoundTrip.Copy(inner.Module, physical.Module, "tokenizer");
        VocabularyRearrangement.Rearrange(physical.VocabularyParameters, view.Permutation);
        using var scope = torch.NewDisposeScope();
        var images = ContractSeeds.Images(2, inner.Info.Image);
        TensorAssert.Identical(view.Encode(images), physical.Encode(images));
        TensorAssert.Identical(view.Decode(view.Encode(images)), physical.Decode(physical.Encode(images)));
    }

    [Fact]
    public void A_rearranged_checkpoint_loads_back_only_with_its_permutation()
    {
        using var dir = new TempDir();
        var inner = FixturePluginCatalog.Tokenizer(0);
        var rearranged = new RearrangedTokenizer(inner, Shuffle(16, 5));
        rearranged.SaveCheckpoint(dir.File("tok.safetensors"));
        using (var file = torch.NewDisposeScope())
        {
            var saved = IAR.Host.Serialization.SafeTensorsFile.Open(dir.File("tok.safetensors"));
            Assert.Equal(rearranged.Permutation.Hash, saved.Metadata[CodebookPermutation.MetadataKey]);
            TensorAssert.Identical(rearranged.Codebook, saved.Load("levels"));
        }

        var loaded = RearrangedTokenizer.Load(FixturePluginCatalog.Tokenizer(9), dir.File("tok.safetensors"), rearranged.Permutation);
        using var scope = torch.NewDisposeScope();
        var images = ContractSeeds.Images(2, inner.Info.Image);
        TensorAssert.Identical(rearranged.Encode(images), loaded.Encode(images));
        TensorAssert.Identical(inner.Codebook, loaded.Inner.Codebook);

        var e = Assert.Throws<InvalidDataException>(() =>
            RearrangedTokenizer.Load(FixturePluginCatalog.Tokenizer(9), dir.File("tok.safetensors"), Shuffle(16, 6)));
        Assert.Contains(rearranged.Permutation.Hash, e.Message);

        // An original checkpoint (no permutation recorded) is wrapped as it is.
        IAR.Host.Serialization.StateDict.Save(inner.Module, dir.File("original.safetensors"));
        var wrapped = RearrangedTokenizer.Load(FixturePluginCatalog.Tokenizer(9), dir.File("original.safetensors"), rearranged.Permutation);
        TensorAssert.Identical(rearranged.Encode(images), wrapped.Encode(images));
    }

    [Fact]
    public void A_saved_checkpoint_keeps_the_metadata_given_and_a_checkpoint_that_does_not_fit_is_refused_naming_the_tokenizer()
    {
        using var dir = new TempDir();
        var inner = FixturePluginCatalog.Tokenizer(0);
        var rearranged = new RearrangedTokenizer(inner, Shuffle(16, 5));
        rearranged.SaveCheckpoint(dir.File("tok.safetensors"), new Dictionary<string, string> { ["x"] = "y" });
        var metadata = IAR.Host.Serialization.SafeTensorsFile.Open(dir.File("tok.safetensors")).Metadata;
        Assert.Equal(("y", rearranged.Permutation.Hash), (metadata["x"], metadata[CodebookPermutation.MetadataKey]));

        using (var stray = torch.zeros(1))
            IAR.Host.Serialization.SafeTensorsWriter.Write(dir.File("foreign.safetensors"), new Dictionary<string, Tensor> { ["stray"] = stray },
                new Dictionary<string, string>());
        var e = Assert.Throws<InvalidDataException>(() =>
            RearrangedTokenizer.Load(FixturePluginCatalog.Tokenizer(9), dir.File("foreign.safetensors"), rearranged.Permutation));
        Assert.Contains($"does not fit {inner.Info.Plugin}/{inner.Info.Preset}", e.Message);
    }

    [Fact]
    public void A_permutation_of_the_wrong_size_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new RearrangedTokenizer(FixturePluginCatalog.Tokenizer(0), Shuffle(8, 1)));
        Assert.Contains("8 codes", e.Message);
    }
}
