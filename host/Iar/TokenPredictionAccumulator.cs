using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// Accumulates <see cref="TokenPredictionMetrics"/> over batches of teacher-forced logits and targets. Works for any
/// numbering: pass the cluster of every index in the numbering the generator predicts (the rearranged one for IAR
/// arms, <see cref="RearrangementPlan.ClusterOfOriginalIndex"/> for a baseline trained on original indices), so that
/// every arm is measured against the same clusters.
/// </summary>
public sealed class TokenPredictionAccumulator : ITokenPredictionAccumulator
{
    readonly Tensor clusterOfIndex;   // int64 [V]
    readonly double chance;
    long count, tokenHits, clusterHits, wrong, wrongInCluster;
    double nllSum;

    /// <param name="clusterOfIndex">int64 [V]: the cluster of every index the generator predicts.</param>
    public TokenPredictionAccumulator(Tensor clusterOfIndex)
    {
        if (clusterOfIndex.dim() != 1 || clusterOfIndex.dtype != ScalarType.Int64)
            throw new ArgumentException("clusterOfIndex must be a 1-D int64 tensor [V].", nameof(clusterOfIndex));
        this.clusterOfIndex = clusterOfIndex.detach().clone();
        this.clusterOfIndex.DetachFromDisposeScope();
        chance = ChanceRate(clusterOfIndex);
    }

    /// <summary>For a generator that predicts the layout's (rearranged) numbering.</summary>
    public TokenPredictionAccumulator(ClusterLayout layout) : this(layout.ClusterOfIndex()) { }

    /// <param name="logits">float [..., V].</param>
    /// <param name="targets">int64 [...].</param>
    public void Add(Tensor logits, Tensor targets)
    {
        long vocab = logits.shape[^1];
        if (vocab != clusterOfIndex.shape[0])
            throw new ArgumentException($"The logits cover {vocab} indices but the clusters cover {clusterOfIndex.shape[0]}.", nameof(logits));
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var flatLogits = logits.detach().reshape(-1, vocab);
        var flatTargets = targets.reshape(-1);
        var clusters = clusterOfIndex.to(logits.device);
        var top1 = flatLogits.argmax(-1);
        var hit = top1.eq(flatTargets);
        var sameCluster = clusters.index_select(0, top1).eq(clusters.index_select(0, flatTargets));
        var miss = hit.logical_not();
        count += flatTargets.shape[0];
        tokenHits += hit.sum().item<long>();
        clusterHits += sameCluster.sum().item<long>();
        wrong += miss.sum().item<long>();
        wrongInCluster += miss.logical_and(sameCluster).sum().item<long>();
        nllSum += nn.functional.cross_entropy(flatLogits.to(ScalarType.Float32), flatTargets, reduction: nn.Reduction.Sum).item<float>();
    }

    public TokenPredictionMetrics Result()
    {
        if (count == 0) throw new InvalidOperationException("No predictions were added.");
        return new TokenPredictionMetrics(count, (double)tokenHits / count, (double)clusterHits / count,
            wrong == 0 ? null : (double)wrongInCluster / wrong, chance, nllSum / count);
    }

    /// <summary>The metrics.jsonl entries of <see cref="Result"/> (the evaluator's held-out loop calls this).</summary>
    public IReadOnlyDictionary<string, double> Results() => Result().ToMetrics();

    /// <summary>
    /// Probability that a wrong index drawn uniformly from the other V − 1 shares the target's cluster, averaged over
    /// uniformly drawn targets: Σ_j m_j(m_j − 1) / (V(V − 1)).
    /// </summary>
    public static double ChanceRate(Tensor clusterOfIndex)
    {
        using var cpu = clusterOfIndex.cpu();
        using var sizes = torch.bincount(cpu);
        double vocab = clusterOfIndex.shape[0];
        if (vocab < 2) return 0;
        double pairs = sizes.data<long>().ToArray().Sum(m => (double)m * (m - 1));
        return pairs / (vocab * (vocab - 1));
    }
}
