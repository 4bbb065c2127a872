using F = TorchSharp.torch.nn.functional;
using IAR.ContractTests;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.LlamaGen;

/// <summary><c>restart_dead_codes_after</c>: codes idle for that many training forwards are re-seeded from encoder outputs.</summary>
public class VqDeadCodeRestartTests
{
    static Dictionary<string, string> Restart(int after) => new() { ["restart_dead_codes_after"] = after.ToString() };

    static HashSet<long> Distinct(Tensor tokens) => tokens.flatten().data<long>().ToHashSet();

    [Fact]
    public void Codes_idle_for_the_window_are_reseeded_from_this_batch_encoder_outputs_and_then_used()
    {
        var tok = LlamaGenTestModels.Tokenizer(options: Restart(2));
        var images = ContractSeeds.Images(8, tok.Info.Image);                                 // 8 × 16 = 128 latents, V = 64
        tok.Module.train();
        var first = tok.Reconstruct(images).Tokens;
        var before = tok.Codebook;
        var second = tok.Reconstruct(images).Tokens;                                          // idle 1 < 2: nothing restarted yet
        TensorAssert.Identical(first, second, "tokens while no code has been idle for 2 forwards");
        TensorAssert.Identical(before, tok.Codebook, "codebook while no code has been idle for 2 forwards");
        var used = Distinct(first);
        var dead = Enumerable.Range(0, 64).Where(c => !used.Contains(c)).ToArray();
        Assert.NotEmpty(dead);                                                                // a fresh VQ-T leaves codes unused

        var third = tok.Reconstruct(images).Tokens;
        var after = tok.Codebook;
        using var noGrad = torch.no_grad();
        var pre = tok.Network.PreQuant(images);                                               // [B, D, h, w]
        var latent = F.normalize(pre.permute(0, 2, 3, 1).reshape(-1, pre.shape[1]), 2, -1);  // [128, D]
        foreach (int c in used) TensorAssert.Identical(before[c], after[c], $"used code {c}");
        foreach (int c in dead)
        {
            var nearest = (latent - F.normalize(after[c], 2, -1)).square().sum(1).min().item<float>();
            Assert.True(nearest < 1e-10, $"dead code {c} is {nearest} away from every encoder output of the batch");
        }
        Assert.True(Distinct(third).Count > used.Count, $"{Distinct(third).Count} codes used after the restart, {used.Count} before");
        var idle = tok.Module.state_dict()["quantize.code_idle"];
        Assert.All(Distinct(third), c => Assert.Equal(0L, idle[c].item<long>()));
    }

    [Fact]
    public void Same_seed_gives_the_same_codebook_and_the_idle_counts_are_a_permuted_buffer()
    {
        Tensor Train(int seed)
        {
            var tok = LlamaGenTestModels.Tokenizer(seed, Restart(1));
            tok.Module.train();
            for (int i = 0; i < 3; i++) tok.Reconstruct(ContractSeeds.Images(4, tok.Info.Image, seed: 10 + i));
            return tok.Codebook;
        }
        TensorAssert.Identical(Train(0), Train(0), "codebook after 3 restarting forwards");
        Assert.False(TensorAssert.AreIdentical(Train(0), Train(1)), "another seed gives another codebook");

        var on = LlamaGenTestModels.Tokenizer(options: Restart(5));
        Assert.Equal(new[] { "quantize.embedding.weight", "quantize.code_idle" }, on.VocabularyParameters.Select(p => p.Name));
        Assert.Equal(ScalarType.Int64, on.Module.state_dict()["quantize.code_idle"].dtype);
        Assert.DoesNotContain("quantize.code_idle", LlamaGenTestModels.Tokenizer().Module.state_dict().Keys);
    }

    [Fact]
    public void A_negative_window_is_a_configuration_error()
    {
        var e = Assert.Throws<IAR.Abstractions.ConfigurationException>(() => LlamaGenTestModels.Tokenizer(options: Restart(-1)));
        Assert.Contains("restart_dead_codes_after = -1", e.Message);
    }
}
