using System.Diagnostics;
using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// The one entry point the run pipeline calls per arm: from the arm's <see cref="IarSpec"/> and the tokenizer's
/// codebook to a rearrangement whose clusters are contiguous blocks.
/// <list type="bullet">
/// <item><c>balanced-kmeans</c>: balanced k-means, n clusters of exactly m (the method).</item>
/// <item><c>random</c>: a seeded random split into n clusters of m (clusters without similarity).</item>
/// <item><c>kmeans</c>: plain Lloyd k-means, clusters of unequal size, still contiguous after rearrangement.</item>
/// <item><c>none</c>: the identity; blocks of m consecutive original indices (CCE without rearrangement).</item>
/// </list>
/// <c>iar.permutation</c> (a file) replaces the clustering; its cluster sizes are used when it records them.
/// </summary>
public static class CodebookRearrangement
{
    /// <param name="spec">The arm's IAR section (cluster size or count, method, normalisation, ordering, iterations).</param>
    /// <param name="codebook">float [V, D], the tokenizer's codebook in its own (original) order.</param>
    /// <param name="seed">Seeds k-means initialisation and the random split.</param>
    /// <param name="source">What the codebook is, for messages.</param>
    /// <param name="live">
    /// The codes used in the training tokens (original numbering): with it the stats carry the
    /// <see cref="ClusterHealth"/>, and balanced k-means treats dead codes as <c>iar.dead_codes</c> says; without it
    /// every code counts as live.
    /// </param>
    /// <exception cref="ConfigurationException">Cluster size/count that does not fit V, or a permutation file for another codebook size.</exception>
    /// <exception cref="InvalidDataException">A NaN/infinite codebook, or a malformed permutation file.</exception>
    public static RearrangementPlan Plan(IarSpec spec, Tensor codebook, ulong seed, string source = "codebook", LiveCodes? live = null)
    {
        var watch = Stopwatch.StartNew();
        var vectors = CodebookVectors.From(codebook, spec.Normalize, source);
        int count = vectors.Count;
        if (live is not null && live.VocabularySize != count)
            throw new ArgumentException($"The live-code counts cover {live.VocabularySize} codes but {source} has {count}.", nameof(live));

        if (spec.Permutation is { } file) return FromFile(spec, vectors, file, watch, live);

        var (clusters, clusterSize) = ClusterSizes.Resolve(count, spec.ClusterSize, spec.Clusters);
        int[] newToOld;
        ClusterLayout layout;
        int iterations = 0;
        bool converged = true;
        var clusteringTime = TimeSpan.Zero;
        double adjacentBefore;
        switch (spec.Clustering)
        {
            case ClusteringMethod.None:
                newToOld = Enumerable.Range(0, count).ToArray();
                layout = ClusterLayout.Uniform(count, clusterSize);
                adjacentBefore = ClusteringQuality.AdjacentDistance(vectors, newToOld, layout);
                break;
            case ClusteringMethod.Random:
                using (var generator = new torch.Generator(seed))
                using (var perm = torch.randperm(count, ScalarType.Int64, generator: generator))
                    newToOld = perm.data<long>().Select(x => (int)x).ToArray();
                layout = ClusterLayout.Uniform(count, clusterSize);
                adjacentBefore = ClusteringQuality.AdjacentDistance(vectors, newToOld, layout);
                break;
            case ClusteringMethod.BalancedKmeans:
            case ClusteringMethod.Kmeans:
                var balanced = new BalancedKMeans
                {
                    Clusters = clusters, MaxIterations = spec.MaxIterations, Seed = seed,
                    Assignment = spec.Assignment, Initialisation = spec.Initialisation,
                };
                var result = spec.Clustering == ClusteringMethod.Kmeans
                    ? new KMeans { Clusters = clusters, MaxIterations = spec.MaxIterations, Seed = seed, Initialisation = spec.Initialisation }.Fit(vectors)
                    : spec.DeadCodes == DeadCodeTreatment.Apart && live is { DeadCount: > 0, LiveCount: > 0 }
                        ? DeadCodesApart(balanced, vectors, live, clusterSize)
                        : balanced.Fit(vectors);
                (iterations, converged, clusteringTime) = (result.Iterations, result.Converged, result.Elapsed);
                layout = ClusterLayout.FromSizes(result.Sizes());
                newToOld = GatherByCluster(result.Assignment, result.Clusters);
                adjacentBefore = ClusteringQuality.AdjacentDistance(vectors, newToOld, layout);
                if (spec.InnerOrder) newToOld = InnerClusterOrder.Apply(vectors, newToOld, layout);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(spec), spec.Clustering, "Unknown clustering method.");
        }

        var permutation = CodebookPermutation.FromNewToOld(newToOld);
        var stats = new RearrangementStats(spec.Clustering, layout, iterations, converged,
            ClusteringQuality.WithinBlockError(vectors, Enumerable.Range(0, count).ToArray(), layout),
            ClusteringQuality.WithinBlockError(vectors, newToOld, layout),
            adjacentBefore,
            ClusteringQuality.AdjacentDistance(vectors, newToOld, layout),
            clusteringTime, watch.Elapsed, live is null ? null : ClusterHealth.Of(layout, newToOld, live));
        return new RearrangementPlan(permutation, layout, stats);
    }

    /// <summary>
    /// <see cref="DeadCodeTreatment.Apart"/>: balanced k-means over the live codes (plus the lowest-index dead codes
    /// needed to fill ⌈live / m⌉ clusters of m) into the first clusters; the remaining dead codes fill the last clusters
    /// in index order. Sizes stay exactly m, and every code gets one cluster.
    /// </summary>
    static ClusteringResult DeadCodesApart(BalancedKMeans kmeans, CodebookVectors vectors, LiveCodes live, int clusterSize)
    {
        var liveCodes = Enumerable.Range(0, vectors.Count).Where(live.IsLive).ToArray();
        var deadCodes = Enumerable.Range(0, vectors.Count).Where(c => !live.IsLive(c)).ToArray();
        int liveClusters = (liveCodes.Length + clusterSize - 1) / clusterSize;
        int filler = liveClusters * clusterSize - liveCodes.Length;
        var clustered = liveCodes.Concat(deadCodes.Take(filler)).ToArray();
        var result = (kmeans with { Clusters = liveClusters }).Fit(vectors.Subset(clustered));
        var assignment = new int[vectors.Count];
        for (int i = 0; i < clustered.Length; i++) assignment[clustered[i]] = result.Assignment[i];
        for (int i = filler; i < deadCodes.Length; i++) assignment[deadCodes[i]] = liveClusters + (i - filler) / clusterSize;
        return result with { Assignment = assignment, Clusters = kmeans.Clusters };
    }

    /// <summary>Codes cluster by cluster (cluster 0 first), original order inside a cluster: new_to_old before ordering.</summary>
    public static int[] GatherByCluster(IReadOnlyList<int> assignment, int clusters)
    {
        var offsets = new int[clusters + 1];
        foreach (int a in assignment) offsets[a + 1]++;
        for (int j = 0; j < clusters; j++) offsets[j + 1] += offsets[j];
        var newToOld = new int[assignment.Count];
        for (int i = 0; i < assignment.Count; i++) newToOld[offsets[assignment[i]]++] = i;
        return newToOld;
    }

    static RearrangementPlan FromFile(IarSpec spec, CodebookVectors vectors, string file, Stopwatch watch, LiveCodes? live)
    {
        int count = vectors.Count;
        CodebookPermutation permutation;
        ClusterLayout? recorded;
        try
        {
            (permutation, recorded) = CodebookPermutation.Load(file);
        }
        catch (FileNotFoundException)
        {
            throw new ConfigurationException($"iar.permutation = '{file}' does not exist.");
        }
        if (permutation.Count != count)
            throw new ConfigurationException(
                $"iar.permutation = '{file}' rearranges {permutation.Count} codes but the tokenizer's codebook has {count}; it was made for a different tokenizer.");
        ClusterLayout layout;
        if (recorded is not null)
        {
            if (spec.Clusters is int n && n != recorded.Count)
                throw new ConfigurationException($"iar.clusters = {n} but the permutation file '{file}' has {recorded.Count} clusters; remove one of them.");
            layout = recorded;
        }
        else
        {
            var (_, clusterSize) = ClusterSizes.Resolve(count, spec.ClusterSize, spec.Clusters);
            layout = ClusterLayout.Uniform(count, clusterSize);
        }
        var newToOld = permutation.NewToOld;
        double after = ClusteringQuality.WithinBlockError(vectors, newToOld, layout);
        double adjacent = ClusteringQuality.AdjacentDistance(vectors, newToOld, layout);
        var stats = new RearrangementStats(spec.Clustering, layout, 0, true,
            ClusteringQuality.WithinBlockError(vectors, Enumerable.Range(0, count).ToArray(), layout), after,
            adjacent, adjacent, TimeSpan.Zero, watch.Elapsed, live is null ? null : ClusterHealth.Of(layout, newToOld, live));
        return new RearrangementPlan(permutation, layout, stats);
    }
}
