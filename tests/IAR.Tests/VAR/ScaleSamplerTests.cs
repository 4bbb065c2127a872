using IAR.Abstractions;
using IAR.Plugins.VAR;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.VAR;

/// <summary>The official top-k / top-p filtering rules.</summary>
public class ScaleSamplerTests
{
    static HashSet<long> Drawn(float[] logits, SamplingOptions options)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(3);
        var batch = torch.tensor(logits).expand(2, 500, logits.Length);   // [B, l, V]
        return ScaleSampler.Sample(batch, options, g).data<long>().ToHashSet();
    }

    [Fact]
    public void Top_k_keeps_ties_at_the_kth_value()
    {
        Assert.Equal([0L, 1L], Drawn([3f, 3f, 1f, 0f], new SamplingOptions(TopK: 1)).Order());
        Assert.Equal([0L, 1L, 2L, 3L], Drawn([3f, 3f, 1f, 0f], new SamplingOptions()).Order());
    }

    [Fact]
    public void Top_p_removes_the_tail_whose_mass_is_at_most_one_minus_p()
    {
        // p = 0.5, 0.3, 0.15, 0.05: ascending cumulative 0.05, 0.2, 0.5, 1 — the first two are ≤ 1 − 0.7.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.15f), MathF.Log(0.05f)];
        Assert.Equal([0L, 1L], Drawn(logits, new SamplingOptions(TopP: 0.7)).Order());
        Assert.Equal([0L], Drawn(logits, new SamplingOptions(TopP: 0.01)).Order());   // the most likely always stays
    }

    [Fact]
    public void The_same_generator_seed_draws_the_same_indices()
    {
        using var logits = torch.randn(2, 9, 64);
        Tensor Draw()
        {
            using var g = new torch.Generator(17);
            return ScaleSampler.Sample(logits, new SamplingOptions(Temperature: 1.3, TopK: 20, TopP: 0.9), g);
        }
        Assert.True(Draw().eq(Draw()).all().item<bool>());
    }
}
