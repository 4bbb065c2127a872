using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Iar;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>
/// What the loss terms accept and how their values are combined: the range checks on λ and ε at their edges, the names
/// the metrics are logged under, the weighted sum, and token CE with label smoothing from logits and from shared
/// log-probabilities. Values are checked against the definitions computed here in plain arithmetic.
/// </summary>
public class LossTermSettingsTests
{
    [Theory]
    [InlineData(-0.001)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_weight_that_is_negative_or_not_finite_is_refused(double weight)
    {
        var e = Assert.Throws<ArgumentException>(() => new GeneratorLoss(
            [new(new TokenCrossEntropy(), 1.0), new(new ClusterCrossEntropy(ClusterLayout.Uniform(4, 2)), weight)]));
        Assert.Contains("cluster_ce", e.Message);
    }

    [Theory]
    [InlineData(-0.001)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Label_smoothing_outside_zero_to_one_is_refused(double smoothing)
    {
        var e = Assert.Throws<ConfigurationException>(() => new ClusterCrossEntropy(ClusterLayout.Uniform(4, 2), smoothing));
        Assert.Contains("iar.label_smoothing", e.Message);
    }

    [Fact]
    public void The_edges_of_the_accepted_ranges_are_accepted_and_kept()
    {
        var layout = ClusterLayout.Uniform(4, 2);
        var zero = new ClusterCrossEntropy(layout, 0.0);
        Assert.Equal(0.0, zero.LabelSmoothing);
        Assert.Equal(0.0, new GeneratorLoss([new(zero, 0.0)]).Terms[0].Weight);
        var set = new ClusterCrossEntropy(layout, 0.999);
        Assert.Equal(2.5, new GeneratorLoss([new(set, 2.5)]).Terms[0].Weight);
        Assert.Equal(0.999, set.LabelSmoothing);
        Assert.Same(layout, set.Layout);
        Assert.Equal("cluster_ce", set.Name);
        Assert.Equal("token_ce", new TokenCrossEntropy().Name);
    }

    [Fact]
    public void Cluster_targets_of_unequal_clusters_follow_the_blocks()
    {
        var loss = new ClusterCrossEntropy(ClusterLayout.FromSizes([1, 3, 2]));
        using var targets = torch.tensor(new long[] { 0, 1, 3, 4, 5 });
        Assert.Equal(new long[] { 0, 1, 1, 2, 2 }, loss.ClusterTargets(targets).data<long>().ToArray());
    }

    [Fact]
    public void Cluster_logits_of_unequal_clusters_are_the_logsumexp_of_each_block()
    {
        var loss = new ClusterCrossEntropy(ClusterLayout.FromSizes([1, 3, 2]));
        double[] z = [0.5, -1, 2, 0.25, 3, -2];
        using var logits = torch.tensor(z).reshape(1, 6);
        var cluster = loss.ClusterLogits(logits).data<double>().ToArray();
        double Lse(params double[] v) => Math.Log(v.Sum(Math.Exp));
        Assert.Equal(Lse(z[0]), cluster[0], 12);
        Assert.Equal(Lse(z[1], z[2], z[3]), cluster[1], 12);
        Assert.Equal(Lse(z[4], z[5]), cluster[2], 12);
    }

    [Fact]
    public void The_total_is_the_weighted_sum_of_the_terms()
    {
        using var logits = torch.zeros(1, 1, 4);
        using var targets = torch.zeros([1, 1], ScalarType.Int64);
        var (total, terms) = new GeneratorLoss([new(new Constant("a", 2.0), 1.0), new(new Constant("b", 3.0), 0.5)]).Compute(logits, targets);
        Assert.Equal(2.0 + 0.5 * 3.0, total.item<double>(), 12);
        Assert.Equal([2.0, 3.0], terms.Select(t => t.item<double>()));   // the terms unweighted
        Assert.Equal(0.5, new GeneratorLoss([new(new Constant("a", 2.0), 0.25)]).Compute(logits, targets).Total.item<double>(), 12);
    }

    [Fact]
    public void Token_ce_with_label_smoothing_matches_the_definition_from_logits_and_from_log_probabilities()
    {
        // Two positions over V = 3: (1 − ε)·NLL + ε·mean over classes of −log p (PyTorch's label smoothing).
        double[][] z = [[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]];
        long[] t = [0, 2];
        const double eps = 0.2;
        double expected = 0;
        for (int i = 0; i < 2; i++)
        {
            double lse = Math.Log(z[i].Sum(Math.Exp));
            double[] logp = z[i].Select(v => v - lse).ToArray();
            expected += (1 - eps) * -logp[t[i]] + eps * -logp.Average();
        }
        expected /= 2;
        var term = new TokenCrossEntropy(LabelSmoothing: eps);
        using var logits = torch.tensor(z.SelectMany(r => r).ToArray()).reshape(1, 2, 3);
        using var targets = torch.tensor(t).reshape(1, 2);
        Assert.Equal(expected, term.Compute(logits, targets).item<double>(), 10);
        using var logProbabilities = logits.reshape(2, 3).log_softmax(-1);
        Assert.Equal(expected, term.ComputeFromLogProbabilities(logProbabilities, targets.reshape(2)).item<double>(), 10);
        var shared = GeneratorLoss.Sum(term).Compute(logits, targets).Terms;
        Assert.Equal(expected, shared[0].item<double>(), 10);
    }

    sealed class Constant(string name, double value) : ILossTerm
    {
        public string Name => name;

        public Tensor Compute(Tensor logits, Tensor targets) => torch.tensor(value);
    }
}
