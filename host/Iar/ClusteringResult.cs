namespace IAR.Host.Iar;

/// <summary>The outcome of a k-means run.</summary>
/// <param name="Assignment">[V]: the cluster of every code, in 0 … Clusters−1.</param>
/// <param name="Clusters">n.</param>
/// <param name="Iterations">Lloyd iterations run (assignment + centre update).</param>
/// <param name="Converged">Whether it stopped because nothing changed (else it hit the iteration limit).</param>
/// <param name="Error">
/// Within-cluster error, the official definition: the sum over codes of the mean over dimensions of
/// (v − cluster mean)², on the vectors that were clustered (L2-normalised by default).
/// </param>
/// <param name="Elapsed">Wall time of the clustering.</param>
public sealed record ClusteringResult(IReadOnlyList<int> Assignment, int Clusters, int Iterations, bool Converged, double Error, TimeSpan Elapsed)
{
    /// <summary>[n]: how many codes each cluster holds.</summary>
    public int[] Sizes()
    {
        var sizes = new int[Clusters];
        foreach (var a in Assignment) sizes[a]++;
        return sizes;
    }
}
