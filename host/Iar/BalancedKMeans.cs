using IAR.Abstractions;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// Balanced k-means: n clusters of exactly m = V/n codes, minimising the within-cluster squared Euclidean error.
/// Lloyd iterations whose assignment step is a capacity-constrained minimum-cost assignment (successive shortest paths, by default) or
/// the official greedy. Seeded and deterministic: the same codebook and seed give the same assignment.
/// </summary>
public sealed record BalancedKMeans
{
    /// <summary>n; must divide V.</summary>
    public required int Clusters { get; init; }

    public int MaxIterations { get; init; } = 100;

    public ulong Seed { get; init; }

    public BalancedAssignment Assignment { get; init; } = BalancedAssignment.Optimal;

    public KMeansInitialisation Initialisation { get; init; } = KMeansInitialisation.PlusPlus;

    /// <param name="codebook">float [V, D].</param>
    /// <param name="normalize">Cluster the L2-normalised rows (official).</param>
    /// <param name="source">What the codebook is, for messages.</param>
    /// <exception cref="ConfigurationException">n does not divide V, or is out of range.</exception>
    /// <exception cref="InvalidDataException">The codebook is not [V, D] or has a NaN/infinite value.</exception>
    public ClusteringResult Fit(Tensor codebook, bool normalize = true, string source = "codebook") =>
        Fit(CodebookVectors.From(codebook, normalize, source));

    /// <inheritdoc cref="Fit(Tensor, bool, string)"/>
    public ClusteringResult Fit(CodebookVectors vectors)
    {
        var (n, m) = ClusterSizes.Resolve(vectors.Count, null, Clusters, countKey: "clusters");
        if (MaxIterations < 1) throw new ConfigurationException($"max_iterations = {MaxIterations} is invalid; at least 1 is accepted.");
        if (m == 1 || n == 1)
        {
            // One code per cluster, or one cluster: nothing to optimise.
            var trivial = Enumerable.Range(0, vectors.Count).Select(i => m == 1 ? i : 0).ToArray();
            return new ClusteringResult(trivial, n, 0, true, ClusteringQuality.WithinClusterError(vectors, trivial, n), TimeSpan.Zero);
        }
        IClusterAssignment step = Assignment switch
        {
            BalancedAssignment.Optimal => new OptimalAssignment(vectors.Count, n, m),
            BalancedAssignment.Greedy => new GreedyAssignment(vectors.Count, n, m),
            _ => throw new ArgumentOutOfRangeException(nameof(Assignment), Assignment, null),
        };
        var initial = InitialCentres.Choose(vectors, n, Initialisation, Seed);
        return LloydIterations.Run(vectors, n, initial, MaxIterations, step);
    }
}

/// <summary>How balanced k-means assigns codes to clusters of fixed capacity m in each iteration.</summary>
public enum BalancedAssignment
{
    /// <summary>
    /// The minimum-cost assignment under the capacity constraint (successive shortest paths on the cluster graph,
    /// warm-started from the previous iteration's cluster prices), after a few cheap greedy iterations while the
    /// centres still move a lot. Every exact iteration lowers the error; it ends at a true fixed point. The default.
    /// </summary>
    Optimal,

    /// <summary>
    /// The official greedy: codes in ascending order of the distance to their nearest centre, each taking its nearest
    /// cluster that still has room. Not optimal, so the error can rise between iterations; kept for comparison.
    /// </summary>
    Greedy,
}

/// <summary>How k-means picks its initial centres (always from a seeded generator).</summary>
public enum KMeansInitialisation
{
    /// <summary>k-means++ (D² sampling): spread-out centres, fewer iterations, lower error. The default.</summary>
    PlusPlus,

    /// <summary>n distinct codes chosen uniformly (the official <c>vectors[randperm(V)[:n]]</c>).</summary>
    Random,
}
