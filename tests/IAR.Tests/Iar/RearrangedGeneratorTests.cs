using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Clustering;
using IAR.Host.Decorators;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>The generator contract holds for a renumbered pretrained generator.</summary>
public sealed class RearrangedGeneratorContractTests : GeneratorContractTests
{
    protected override IGenerator CreateGenerator(int seed, ITokenizer tokenizer) =>
        RearrangedGenerator.FromPretrained(FixturePluginCatalog.Generator(seed, tokenizer), RearrangedTokenizerTests.Shuffle(tokenizer.Info.VocabularySize, 321));
}

/// <summary>
/// Rearranging a trained tokenizer + generator pair changes nothing it computes: the equivariance that lets IAR start
/// from pretrained weights. Exact image equality is shown with greedy (top-k 1) sampling; multinomial sampling draws
/// a different code from the same random numbers once the order of the distribution changes (same distribution,
/// different draw), so it is not expected to match sample for sample.
/// </summary>
public class RearrangedGeneratorTests
{
    internal static void AssertEquivariant(ITokenizer tokenizer, IGenerator original, IGenerator copy, CodebookPermutation permutation,
        int numClasses, double logitTolerance)
    {
        var rearrangedTokenizer = new RearrangedTokenizer(tokenizer, permutation);
        var rearranged = RearrangedGenerator.FromPretrained(copy, permutation);
        original.Module.eval();
        rearranged.Module.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var images = ContractSeeds.Images(4, tokenizer.Info.Image);
        var labels = ContractSeeds.Labels(4, numClasses);

        // Teacher forcing: the same logits, columns renumbered.
        var before = original.Forward(new TokenBatch(tokenizer.Encode(images), labels));
        var after = rearranged.Forward(new TokenBatch(rearrangedTokenizer.Encode(images), labels));
        TensorAssert.Identical(permutation.ToNew(before.Targets), after.Targets);
        TensorAssert.Close(before.Logits, after.Logits.index_select(-1, permutation.OldToNewTensor()), logitTolerance, logitTolerance, "logits");

        // Greedy sampling: the same images.
        var greedy = new SamplingOptions(TopK: 1);
        var imagesBefore = tokenizer.Decode(original.Generate(labels, greedy, null));
        var tokensAfter = rearranged.Generate(labels, greedy, null);
        TensorAssert.Identical(imagesBefore, rearrangedTokenizer.Decode(tokensAfter));
    }

    [Fact]
    public void Pretrained_fixture_generator_makes_the_same_images_after_rearrangement()
    {
        var tokenizer = FixturePluginCatalog.Tokenizer(0);
        var original = FixturePluginCatalog.Generator(1);
        var copy = FixturePluginCatalog.Generator(2);
        StateDictRoundTrip.Copy(original.Module, copy.Module, "generator");
        var plan = RearrangedTokenizerTests.PlanFor(tokenizer, 4);
        AssertEquivariant(tokenizer, original, copy, plan.Permutation, original.Info.NumClasses, 0);
    }

    [Fact]
    public void Checkpoints_record_their_numbering_and_are_never_renumbered_twice()
    {
        using var dir = new TempDir();
        var permutation = RearrangedTokenizerTests.Shuffle(16, 8);
        var original = FixturePluginCatalog.Generator(1);
        StateDict.Save(original.Module, dir.File("original.safetensors"));
        var copy = FixturePluginCatalog.Generator(2);
        StateDictRoundTrip.Copy(original.Module, copy.Module, "generator");
        var rearranged = RearrangedGenerator.FromPretrained(copy, permutation);
        rearranged.SaveCheckpoint(dir.File("rearranged.safetensors"));

        var fromOriginal = RearrangedGenerator.Load(FixturePluginCatalog.Generator(3), dir.File("original.safetensors"), permutation);
        var fromRearranged = RearrangedGenerator.Load(FixturePluginCatalog.Generator(4), dir.File("rearranged.safetensors"), permutation);
        foreach (var (key, value) in rearranged.Module.state_dict())
        {
            TensorAssert.Identical(value, fromOriginal.Module.state_dict()[key], $"{key} loaded from the original checkpoint");
            TensorAssert.Identical(value, fromRearranged.Module.state_dict()[key], $"{key} loaded from the rearranged checkpoint");
        }
        var e = Assert.Throws<InvalidDataException>(() =>
            RearrangedGenerator.Load(FixturePluginCatalog.Generator(5), dir.File("rearranged.safetensors"), RearrangedTokenizerTests.Shuffle(16, 9)));
        Assert.Contains("rearranged.safetensors", e.Message);
        Assert.Contains(permutation.Hash, e.Message);
    }
}
