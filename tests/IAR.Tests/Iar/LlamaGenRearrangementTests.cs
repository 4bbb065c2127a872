using IAR.ContractTests;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Abstractions;
using IAR.Tests.LlamaGen;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>IAR on the real LlamaGen plugin (VQ-T + GPT-T): rearrangement equivariance and the loss on its logits.</summary>
public class LlamaGenRearrangementTests
{
    [Fact]
    public void Pretrained_gpt_makes_the_same_images_after_rearranging_its_vq()
    {
        var tokenizer = LlamaGenTestModels.Tokenizer(seed: 0);
        var original = LlamaGenTestModels.Generator(seed: 1, tokenizer: tokenizer);
        var copy = LlamaGenTestModels.Generator(seed: 2, tokenizer: tokenizer);
        StateDictRoundTrip.Copy(original.Module, copy.Module, "generator");
        RearrangementPlan plan;
        using (var codebook = tokenizer.Codebook)
            plan = CodebookRearrangement.Plan(new IarSpec { Enabled = true, ClusterSize = 8 }, codebook, seed: 0);
        Assert.False(plan.Permutation.IsIdentity);
        // Logits go through a matmul whose rows were permuted; allow float reassociation.
        PretrainedRearrangementTests.AssertEquivariant(tokenizer, original, copy, plan.Permutation, LlamaGenTestModels.NumClasses, 1e-5);
    }

    [Fact]
    public void Vq_vocabulary_parameters_are_complete()
    {
        var tokenizer = LlamaGenTestModels.Tokenizer(seed: 0);
        var physical = LlamaGenTestModels.Tokenizer(seed: 1);
        StateDictRoundTrip.Copy(tokenizer.Module, physical.Module, "tokenizer");
        var view = new RearrangedTokenizer(tokenizer, RearrangedTokenizerTests.Shuffle(tokenizer.Info.VocabularySize, 3));
        VocabularyRearrangement.Rearrange(physical.VocabularyParameters, view.Permutation);
        tokenizer.Module.eval();
        physical.Module.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var images = ContractSeeds.Images(2, tokenizer.Info.Image);
        TensorAssert.Identical(view.Encode(images), physical.Encode(images));
        TensorAssert.Close(view.Decode(view.Encode(images)), physical.Decode(physical.Encode(images)), 1e-6, 1e-6, "decoded images");
    }

    [Fact]
    public void Cluster_loss_trains_through_the_gpt()
    {
        var tokenizer = LlamaGenTestModels.Tokenizer(seed: 0);
        var generator = LlamaGenTestModels.Generator(seed: 1, tokenizer: tokenizer);
        generator.Module.train();
        var loss = new ClusterCrossEntropy(ClusterLayout.Uniform(tokenizer.Info.VocabularySize, 8));
        var tokens = ContractSeeds.Tokens(3, tokenizer.Info.Layout.SequenceLength, tokenizer.Info.VocabularySize);
        var output = generator.Forward(new TokenBatch(tokens, ContractSeeds.Labels(3, LlamaGenTestModels.NumClasses)));
        var value = loss.Compute(output.Logits, output.Targets);
        value.backward();
        Assert.True(value.item<float>() > 0);
        Assert.Contains(generator.Module.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
    }
}
