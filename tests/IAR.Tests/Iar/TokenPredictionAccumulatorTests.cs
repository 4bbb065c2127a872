using IAR.Host.Iar;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

public class TokenPredictionAccumulatorTests
{
    /// <summary>Logits [1, rows, V] whose argmax is <paramref name="top1"/> in every row.</summary>
    static Tensor Peaked(int vocab, params int[] top1)
    {
        var logits = torch.zeros(1, top1.Length, vocab);
        for (int r = 0; r < top1.Length; r++) logits[0, r, top1[r]] = torch.tensor(5f);
        return logits;
    }

    [Fact]
    public void Counts_token_hits_cluster_hits_and_wrong_tokens_in_the_right_cluster_over_batches()
    {
        var layout = ClusterLayout.Uniform(12, 4);   // clusters {0..3} {4..7} {8..11}
        var accumulator = new TokenPredictionAccumulator(layout);
        // Batch 1: hit; wrong but same cluster; wrong and other cluster.
        accumulator.Add(Peaked(12, 1, 2, 9), torch.tensor(new long[] { 1, 3, 4 }).reshape(1, 3));
        // Batch 2: wrong but same cluster; hit.
        accumulator.Add(Peaked(12, 10, 7), torch.tensor(new long[] { 8, 7 }).reshape(1, 2));
        var m = accumulator.Result();
        Assert.Equal(5, m.Count);
        Assert.Equal(2.0 / 5, m.TokenAccuracy, 12);
        Assert.Equal(4.0 / 5, m.ClusterAccuracy, 12);
        Assert.Equal(2.0 / 3, m.WrongTop1RightCluster!.Value, 12);
        Assert.Equal(3.0 / 11, m.ChanceWrongTop1RightCluster, 12);
        Assert.True(m.TokenNll > 0);
        Assert.Equal(["token_nll", "token_accuracy", "cluster_accuracy", "wrong_top1_right_cluster"], m.ToMetrics().Keys);
    }

    [Fact]
    public void A_baseline_in_original_numbering_is_measured_against_the_same_clusters()
    {
        // Clusters defined on the rearranged numbering; the baseline predicts original indices.
        var permutation = CodebookPermutation.FromNewToOld([3, 0, 2, 1]);   // new 0 = old 3, ...
        var layout = ClusterLayout.Uniform(4, 2);                           // new {0,1} = old {3,0}; new {2,3} = old {2,1}
        var plan = new RearrangementPlan(permutation, layout, null!);
        var original = new TokenPredictionAccumulator(plan.ClusterOfOriginalIndex());
        original.Add(Peaked(4, 0), torch.tensor(new long[] { 3 }).reshape(1, 1));   // old 0 and old 3 share a cluster
        original.Add(Peaked(4, 1), torch.tensor(new long[] { 3 }).reshape(1, 1));   // old 1 does not
        var m = original.Result();
        Assert.Equal(0.5, m.ClusterAccuracy, 12);
        Assert.Equal(0.5, m.WrongTop1RightCluster!.Value, 12);
    }

    [Fact]
    public void No_wrong_predictions_leaves_the_rate_out()
    {
        var accumulator = new TokenPredictionAccumulator(ClusterLayout.Uniform(4, 2));
        accumulator.Add(Peaked(4, 2), torch.tensor(new long[] { 2 }).reshape(1, 1));
        var m = accumulator.Result();
        Assert.Null(m.WrongTop1RightCluster);
        Assert.DoesNotContain("wrong_top1_right_cluster", m.ToMetrics().Keys);
        Assert.Throws<InvalidOperationException>(() => new TokenPredictionAccumulator(ClusterLayout.Uniform(4, 2)).Result());
    }
}
