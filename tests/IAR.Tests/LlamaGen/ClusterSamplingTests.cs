using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Experiments;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.VAR;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.LlamaGen;

/// <summary>
/// Cluster-aware sampling (cluster from logsumexp of its logits, then the token within it): the marginal over clusters
/// on hand-made logits, its own cluster temperature / top-k, and equality with plain sampling when the clustering is trivial.
/// </summary>
public class ClusterSamplingTests
{
    // p(t) = 0.10 0.20 0.05 0.25 0.30 0.10; clusters (not contiguous) 2 0 1 0 2 1 → p(c) = 0.45, 0.15, 0.40
    static readonly double[] TokenProbabilities = [0.10, 0.20, 0.05, 0.25, 0.30, 0.10];
    static readonly long[] Map = [2, 0, 1, 0, 2, 1];

    static Tensor HandLogits() => torch.tensor(TokenProbabilities).log().to(ScalarType.Float32).unsqueeze(0) + 1.5f;   // [1, 6], any offset

    static double[] Joint(ClusterSampling clusters, SamplingOptions tokens)
    {
        using var logits = HandLogits();
        using var p = clusters.Probabilities(logits, tokens, LogitFilter.Apply);
        return p.squeeze(0).to(ScalarType.Float64).data<double>().ToArray();
    }

    static double[] ClusterMarginal(double[] joint) =>
        Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, 6).Where(t => Map[t] == c).Sum(t => joint[t])).ToArray();

    static void Near(double[] expected, double[] actual, double tolerance = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void At_temperature_one_the_cluster_marginal_is_the_clusters_probability_mass_and_the_joint_is_plain_softmax()
    {
        var joint = Joint(new ClusterSampling(torch.tensor(Map)), new SamplingOptions());
        Near([0.45, 0.15, 0.40], ClusterMarginal(joint));
        Near(TokenProbabilities, joint);                                  // p(c)·p(t | c) = p(t)
    }

    [Fact]
    public void The_cluster_stage_has_its_own_temperature_and_top_k_and_the_token_stage_its_own()
    {
        // cluster temperature 0.5: p(c) ∝ mass² = 0.2025, 0.0225, 0.16; inside a cluster the tokens keep their ratios
        var cold = Joint(new ClusterSampling(torch.tensor(Map), temperature: 0.5), new SamplingOptions());
        double z = 0.2025 + 0.0225 + 0.16;
        Near([0.2025 / z, 0.0225 / z, 0.16 / z], ClusterMarginal(cold));
        Near([0.10 / 0.40 * 0.16 / z, 0.20 / 0.45 * 0.2025 / z], [cold[0], cold[1]]);

        // cluster top-k 1: only the heaviest cluster (0: tokens 1 and 3)
        Near([0, 0.20 / 0.45, 0, 0.25 / 0.45, 0, 0], Joint(new ClusterSampling(torch.tensor(Map), topK: 1), new SamplingOptions()));
        // token top-k 1: each cluster's mass on its most likely token
        Near([0, 0, 0, 0.45, 0.40, 0.15], Joint(new ClusterSampling(torch.tensor(Map)), new SamplingOptions(TopK: 1)));
        // cluster top-p 0.5: 0.45 crosses 0.5? no — cumulative 0.45 < 0.5, so the second (0.40) is kept too
        Near([0.10 / 0.85, 0.20 / 0.85, 0, 0.25 / 0.85, 0.30 / 0.85, 0], Joint(new ClusterSampling(torch.tensor(Map), topP: 0.5), new SamplingOptions()));
    }

    [Fact]
    public void Draws_follow_the_cluster_marginal_and_repeat_for_a_seed()
    {
        var options = new SamplingOptions(Clusters: new ClusterSampling(torch.tensor(Map), temperature: 0.5));
        using var logits = HandLogits().expand(20_000, 6);
        Tensor Draw(ulong seed)
        {
            using var g = new torch.Generator(seed);
            return LogitFilter.Sample(logits, options, g);
        }
        using var a = Draw(11);
        using var b = Draw(11);
        TensorAssert.Identical(a, b);
        using var clusters = torch.tensor(Map).index_select(0, a);
        var frequencies = clusters.bincount(null, 3).to(ScalarType.Float64).div(20_000.0).data<double>().ToArray();
        double z = 0.2025 + 0.0225 + 0.16;
        Near([0.2025 / z, 0.0225 / z, 0.16 / z], frequencies, tolerance: 0.015);   // 4.5 binomial sd at n = 20 000
    }

    [Fact]
    public void A_cluster_id_no_token_has_gets_no_mass()
    {
        using var logits = torch.tensor(new float[] { 0, 1, 2, 3 }).unsqueeze(0);
        using var p = new ClusterSampling(torch.tensor(new long[] { 0, 0, 2, 2 })).Probabilities(logits, new SamplingOptions(), LogitFilter.Apply);
        using var plain = logits.softmax(-1);
        Assert.True(p.isfinite().all().item<bool>());
        Assert.True(p.allclose(plain, rtol: 1e-5, atol: 1e-7));
    }

    [Fact]
    public void One_cluster_gives_the_same_tokens_as_plain_sampling_for_a_seed()
    {
        using var logits = torch.randn(64, 32, generator: new torch.Generator(5));
        var plain = new SamplingOptions(Temperature: 0.8, TopK: 10, TopP: 0.9);
        var one = plain with { Clusters = new ClusterSampling(torch.zeros(32, ScalarType.Int64), temperature: 0.3, topK: 1) };
        using var g1 = new torch.Generator(9);
        using var g2 = new torch.Generator(9);
        TensorAssert.Identical(LogitFilter.Sample(logits, plain, g1), LogitFilter.Sample(logits, one, g2));

        using var scales = torch.randn(2, 9, 32, generator: new torch.Generator(6));                      // VAR: [B, l, V]
        using var g3 = new torch.Generator(9);
        using var g4 = new torch.Generator(9);
        TensorAssert.Identical(ScaleSampler.Sample(scales, plain, g3), ScaleSampler.Sample(scales, one, g4));
    }

    [Fact]
    public void One_token_per_cluster_with_the_plain_settings_on_the_cluster_stage_is_plain_sampling()
    {
        using var logits = torch.randn(64, 32, generator: new torch.Generator(7));
        var plain = new SamplingOptions(Temperature: 0.7, TopK: 5, TopP: 0.8);
        var perToken = plain with { Clusters = new ClusterSampling(torch.arange(32, dtype: ScalarType.Int64), temperature: 0.7, topK: 5, topP: 0.8) };
        using var a = LogitFilter.Apply(logits, plain).softmax(-1);
        using var b = perToken.Clusters!.Probabilities(logits, perToken, LogitFilter.Apply);
        Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-7));
        using var g1 = new torch.Generator(9);
        using var g2 = new torch.Generator(9);
        TensorAssert.Identical(LogitFilter.Sample(logits, plain, g1), LogitFilter.Sample(logits, perToken, g2));
    }

    [Fact]
    public void The_spec_turns_cluster_aware_sampling_on_only_with_a_map_and_checks_its_settings()
    {
        var spec = new SamplingSpec { ClusterAware = true, ClusterTemperature = 0.5, ClusterTopK = 4 };
        Assert.Throws<ConfigurationException>(() => spec.ToOptions());
        var options = spec.ToOptions(torch.tensor(Map));
        Assert.Equal((3, 0.5, 4, 1.0), (options.Clusters!.Clusters, options.Clusters.Temperature, options.Clusters.TopK, options.Clusters.TopP));
        Assert.Null(new SamplingSpec().ToOptions(torch.tensor(Map)).Clusters);
        Assert.Equal(["cluster_temperature", "cluster_top_k", "cluster_top_p"],
            new SamplingSpec { ClusterTemperature = 0, ClusterTopK = -1, ClusterTopP = 1.5 }.Validate().Select(e => e.Key).ToArray());
    }
}
