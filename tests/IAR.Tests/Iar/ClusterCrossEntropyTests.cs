using IAR.Host.Training;
using IAR.ContractTests;
using IAR.Host.Iar;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

public class ClusterCrossEntropyTests
{
    static Tensor Logits(long b, long l, long v, ulong seed, double scale = 3)
    {
        using var g = new torch.Generator(seed);
        return torch.randn([b, l, v], generator: g) * scale;
    }

    /// <summary>The definition, one cluster at a time: −log Σ_{k ∈ cluster(t)} softmax(logits)_k.</summary>
    static double Reference(Tensor logits, Tensor targets, ClusterLayout layout)
    {
        var flat = logits.reshape(-1, logits.shape[^1]).to(ScalarType.Float64);
        var t = targets.reshape(-1);
        double total = 0;
        for (long r = 0; r < flat.shape[0]; r++)
        {
            int cluster = layout.ClusterOf((int)t[r].item<long>());
            var block = flat[r].narrow(0, layout.Offsets[cluster], layout.Sizes[cluster]);
            total += (flat[r].logsumexp(0) - block.logsumexp(0)).item<double>();
        }
        return total / flat.shape[0];
    }

    [Fact]
    public void Equal_clusters_match_the_definition()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Logits(2, 5, 48, 1);
        using var g = new torch.Generator(2);
        var targets = torch.randint(0, 48, [2, 5], generator: g, dtype: ScalarType.Int64);
        var layout = ClusterLayout.Uniform(48, 6);
        var loss = new ClusterCrossEntropy(layout);
        TensorAssert.Close(Reference(logits, targets, layout), loss.Compute(logits, targets).item<float>(), atol: 1e-4, rtol: 0);
        TensorAssert.Identical(targets.div(6, RoundingMode.floor), loss.ClusterTargets(targets));
        Assert.Equal("cluster_ce", loss.Name);
    }

    [Fact]
    public void Unequal_clusters_match_the_definition_and_reduce_to_equal_ones()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Logits(3, 4, 20, 3);
        using var g = new torch.Generator(4);
        var targets = torch.randint(0, 20, [3, 4], generator: g, dtype: ScalarType.Int64);
        var layout = ClusterLayout.FromSizes([1, 7, 3, 9]);
        var loss = new ClusterCrossEntropy(layout);
        TensorAssert.Close(Reference(logits, targets, layout), loss.Compute(logits, targets).item<float>(), atol: 1e-4, rtol: 0);
        var clusterLogits = loss.ClusterLogits(logits);
        Assert.Equal(new long[] { 3, 4, 4 }, clusterLogits.shape);
        TensorAssert.Close(logits.narrow(-1, 0, 1).squeeze(-1), clusterLogits.select(-1, 0), 1e-6, 1e-6, "a one-code cluster's logit");
        TensorAssert.Close(logits.logsumexp(-1), clusterLogits.logsumexp(-1), 1e-5, 1e-5, "the clusters partition the vocabulary");
    }

    [Fact]
    public void Gradients_stay_finite_for_far_apart_logits_in_unequal_clusters()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Logits(1, 3, 12, 5).requires_grad_(true);
        var shifted = logits + torch.tensor(new float[] { 0, 0, 0, 0, -1e4f, -1e4f, -1e4f, 0, 0, 0, 0, 0 });
        var targets = torch.tensor(new long[] { 5, 5, 0 }).reshape(1, 3);
        var loss = new ClusterCrossEntropy(ClusterLayout.FromSizes([4, 3, 5])).Compute(shifted, targets);
        loss.backward();
        Assert.True(float.IsFinite(loss.item<float>()) && loss.item<float>() > 1000);
        Assert.True(logits.grad!.isfinite().all().item<bool>());
    }

    [Fact]
    public void Label_smoothing_applies_to_the_cluster_distribution()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Logits(2, 3, 16, 6);
        var targets = torch.tensor(new long[] { 0, 5, 9, 15, 3, 12 }).reshape(2, 3);
        var layout = ClusterLayout.Uniform(16, 4);
        var smoothed = new ClusterCrossEntropy(layout, labelSmoothing: 0.1);
        var clusterLogits = smoothed.ClusterLogits(logits).reshape(-1, 4);
        var expected = nn.functional.cross_entropy(clusterLogits, smoothed.ClusterTargets(targets).reshape(-1), label_smoothing: 0.1);
        TensorAssert.Close(expected, smoothed.Compute(logits, targets), 1e-6, 1e-6);
        Assert.NotEqual(new ClusterCrossEntropy(layout).Compute(logits, targets).item<float>(), smoothed.Compute(logits, targets).item<float>());
    }

    /// <summary>
    /// The shared log-softmax path (what training uses) against each term on its own logits — values and the gradient
    /// of token CE + λ·cluster CE — for equal and unequal clusters, with and without label smoothing.
    /// </summary>
    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(false, 0.1)]
    [InlineData(true, 0.0)]
    [InlineData(true, 0.2)]
    public void Sharing_the_log_softmax_with_token_ce_changes_neither_values_nor_gradients(bool unequal, double smoothing)
    {
        using var scope = torch.NewDisposeScope();
        var layout = unequal ? ClusterLayout.FromSizes([1, 7, 3, 9, 4]) : ClusterLayout.Uniform(24, 6);
        using var g = new torch.Generator(7);
        var targets = torch.randint(0, 24, [3, 5], generator: g, dtype: ScalarType.Int64);
        var loss = new GeneratorLoss(
            [new(new TokenCrossEntropy(smoothing), 1.0), new(new ClusterCrossEntropy(layout, labelSmoothing: smoothing), 0.7)]);

        // Each path gives the terms; the weighted sum 1·token + 0.7·cluster is back-propagated (the objective's own total for the shared path).
        (Tensor[] Values, Tensor Gradient) Run(Func<Tensor, (Tensor Total, Tensor[] Terms)> compute)
        {
            var logits = Logits(3, 5, 24, 8).requires_grad_(true);
            var (total, values) = compute(logits);
            total.backward();
            return (values.Select(v => v.detach()).ToArray(), logits.grad!);
        }
        (Tensor, Tensor[]) Weighted(Tensor[] values) => (values[0] + 0.7 * values[1], values);

        var cluster = (ClusterCrossEntropy)loss.Terms[1].Term;
        // The definitions: CE over the token logits, CE over the cluster logits (logsumexp of each block).
        var definition = Run(logits => Weighted(
        [
            nn.functional.cross_entropy(logits.reshape(-1, 24), targets.reshape(-1), label_smoothing: smoothing),
            nn.functional.cross_entropy(cluster.ClusterLogits(logits).reshape(-1, layout.Count), cluster.ClusterTargets(targets).reshape(-1),
                label_smoothing: smoothing),
        ]));
        var separate = Run(logits => Weighted(loss.Terms.Select(t => t.Term.Compute(logits, targets)).ToArray()));
        var shared = Run(logits =>
        {
            var (total, terms) = loss.Compute(logits, targets);
            return (total, terms.ToArray());
        });
        foreach (var (run, path) in new[] { (separate, "each term's Compute"), (shared, "shared log-softmax") })
        {
            TensorAssert.Close(definition.Values[0], run.Values[0], 1e-5, 1e-5, $"token CE, {path}");
            TensorAssert.Close(definition.Values[1], run.Values[1], 1e-5, 1e-5, $"cluster CE, {path}");
            TensorAssert.Close(definition.Gradient, run.Gradient, 1e-6, 1e-5, $"gradient of the weighted sum, {path}");
        }
        Assert.True(shared.Gradient.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Bad_settings_and_vocabulary_mismatches_are_rejected()
    {
        var layout = ClusterLayout.Uniform(16, 4);
        Assert.Throws<IAR.Abstractions.ConfigurationException>(() => new ClusterCrossEntropy(layout, labelSmoothing: 1));
        using var logits = torch.zeros(1, 2, 12);
        var e = Assert.Throws<ArgumentException>(() => new ClusterCrossEntropy(layout).ClusterLogits(logits));
        Assert.Contains("12 indices", e.Message);
    }
}
