using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Plugins.VAR;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.VAR;

/// <summary>
/// Equivariance under a renumbered codebook, with a test-local renumbering (the index-mapping decorator below and
/// index_select of the generator's vocabulary parameters): the same model with its head rows permuted, generating for
/// the renumbered tokenizer, gives the same images and the same teacher-forced logits up to the permutation. This holds
/// only because VAR turns indices into vectors through the tokenizer it was given, never through the VQVAE's embedding.
/// </summary>
public class VarIndexBoundaryTests
{
    static (VarGenerator Original, VarGenerator Renumbered, IndexMappedTokenizer Mapped, Tensor NewToOld) Pair()
    {
        var tokenizer = VarTestModels.Tokenizer(8);
        tokenizer.Module.eval();
        var original = VarTestModels.Generator(8, tokenizer);
        using var g = new torch.Generator(123);
        var newToOld = torch.randperm(tokenizer.Info.VocabularySize, generator: g);
        var mapped = new IndexMappedTokenizer(tokenizer, newToOld);
        var renumbered = VarTestModels.Generator(99, mapped);
        StateDictRoundTrip.Copy(original.Module, renumbered.Module, "VAR-T");
        using (torch.no_grad())
            foreach (var p in renumbered.VocabularyParameters) p.Tensor.copy_(p.Tensor.index_select(p.Axis, newToOld));
        original.Module.eval();
        renumbered.Module.eval();
        return (original, renumbered, mapped, newToOld);
    }

    [Fact]
    public void Greedy_generation_gives_identical_images_under_a_renumbered_codebook()
    {
        var (original, renumbered, mapped, _) = Pair();
        using var scope = torch.NewDisposeScope();
        var labels = torch.tensor(new long[] { 0, 1, 2, 3 });
        var options = new SamplingOptions(CfgScale: 2.5, TopK: 1);
        var before = original.Generate(labels, options, null);
        var after = renumbered.Generate(labels, options, null);
        TensorAssert.Identical(mapped.ToNew(before), after, "renumbered indices");
        TensorAssert.Identical(mapped.Inner.Decode(before), mapped.Decode(after), "images");
    }

    [Fact]
    public void Teacher_forced_logits_are_permuted_like_the_codebook()
    {
        var (original, renumbered, mapped, newToOld) = Pair();
        using var scope = torch.NewDisposeScope();
        var tokens = ContractSeeds.Tokens(3, original.Info.Layout.SequenceLength, original.Info.VocabularySize);
        var labels = ContractSeeds.Labels(3, VarTestModels.NumClasses);
        var before = original.Forward(new TokenBatch(tokens, labels));
        var after = renumbered.Forward(new TokenBatch(mapped.ToNew(tokens), labels));
        TensorAssert.Close(before.Logits.index_select(2, newToOld), after.Logits, 1e-6, 1e-6, "logits");
        var v = original.Info.VocabularySize;
        TensorAssert.Close(nn.functional.cross_entropy(before.Logits.reshape(-1, v), before.Targets.reshape(-1)),
            nn.functional.cross_entropy(after.Logits.reshape(-1, v), after.Targets.reshape(-1)), 1e-6, 1e-6, "loss");
    }
}
