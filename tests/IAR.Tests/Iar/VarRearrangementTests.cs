using IAR.ContractTests;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Tests.VAR;

namespace IAR.Tests.Iar;

/// <summary>
/// IAR core's equivariance test on the VAR plugin (VQVAE-T + VAR-T): the decorators know nothing of next-scale
/// prediction, yet rearranging a pretrained VAR's VQVAE and head rows leaves its logits (rearranged) and its greedy
/// images unchanged. A VAR turns indices into its next-scale input through the tokenizer it is built with, so the
/// rearranged copy is built for the rearranged tokenizer, as the run's IAR job factory does.
/// </summary>
public class VarRearrangementTests
{
    [Fact]
    public void Pretrained_var_makes_the_same_images_after_rearranging_its_vqvae()
    {
        var tokenizer = VarTestModels.Tokenizer(8);
        tokenizer.Module.eval();
        var original = VarTestModels.Generator(8, tokenizer);
        RearrangementPlan plan;
        using (var codebook = tokenizer.Codebook)
            plan = CodebookRearrangement.Plan(new IarSpec { Enabled = true, ClusterSize = 8 }, codebook, seed: 0);
        Assert.False(plan.Permutation.IsIdentity);
        var copy = VarTestModels.Generator(99, new RearrangedTokenizer(tokenizer, plan.Permutation));
        StateDictRoundTrip.Copy(original.Module, copy.Module, "VAR-T");
        PretrainedRearrangementTests.AssertEquivariant(tokenizer, original, copy, plan.Permutation, VarTestModels.NumClasses, 1e-5);
    }
}
