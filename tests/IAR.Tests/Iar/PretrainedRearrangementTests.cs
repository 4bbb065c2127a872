using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Iar;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>
/// Rearranging a trained tokenizer + generator pair changes nothing it computes: the equivariance that lets IAR start
/// from pretrained weights. Exact image equality is shown with greedy (top-k 1) sampling; multinomial sampling draws
/// a different code from the same random numbers once the order of the distribution changes (same distribution,
/// different draw), so it is not expected to match sample for sample.
/// </summary>
public class PretrainedRearrangementTests
{
    internal static void AssertEquivariant(ITokenizer tokenizer, IGenerator original, IGenerator copy, CodebookPermutation permutation,
        int numClasses, double logitTolerance)
    {
        var rearrangedTokenizer = new RearrangedTokenizer(tokenizer, permutation);
        // What a job does to a pretrained generator: its declared vocabulary tensors rearranged in place.
        VocabularyRearrangement.Rearrange(copy.VocabularyParameters, permutation);
        var rearranged = copy;
        original.Module.eval();
        rearranged.Module.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var images = ContractSeeds.Images(4, tokenizer.Info.Image);
        var labels = ContractSeeds.Labels(4, numClasses);

        // Teacher forcing: the same logits, columns rearranged.
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
}
