using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// How the (rearranged) vocabulary splits into clusters: cluster j holds the contiguous indices
/// <c>Offsets[j] … Offsets[j+1]−1</c>. Balanced clusterings have one size m for every cluster (cluster of index t is
/// <c>t / m</c>); the unbalanced k-means ablation has clusters of different sizes, still contiguous after rearrangement.
/// </summary>
public sealed class ClusterLayout
{
    readonly int[] sizes;
    readonly int[] offsets;
    readonly Dictionary<(DeviceType, int), Tensor> clusterOfCache = [];

    ClusterLayout(int[] sizes)
    {
        this.sizes = sizes;
        offsets = new int[sizes.Length + 1];
        for (int j = 0; j < sizes.Length; j++) offsets[j + 1] = offsets[j] + sizes[j];
        UniformSize = sizes.All(s => s == sizes[0]) ? sizes[0] : null;
    }

    /// <summary>n clusters of exactly m = V / n indices.</summary>
    /// <exception cref="ConfigurationException">V is not a multiple of m (the sizes that would work are named).</exception>
    public static ClusterLayout Uniform(int vocabularySize, int clusterSize)
    {
        ClusterSizes.RequireDivides(vocabularySize, clusterSize);
        return new ClusterLayout(Enumerable.Repeat(clusterSize, vocabularySize / clusterSize).ToArray());
    }

    /// <summary>Contiguous clusters of the given sizes, in order.</summary>
    /// <exception cref="ArgumentException">A size is below 1.</exception>
    public static ClusterLayout FromSizes(IReadOnlyList<int> sizes)
    {
        if (sizes.Count == 0) throw new ArgumentException("A cluster layout needs at least one cluster.", nameof(sizes));
        for (int j = 0; j < sizes.Count; j++)
            if (sizes[j] < 1) throw new ArgumentException($"Cluster {j} has size {sizes[j]}; every cluster needs at least one code.", nameof(sizes));
        return new ClusterLayout(sizes.ToArray());
    }

    /// <summary>n, the number of clusters.</summary>
    public int Count => sizes.Length;

    /// <summary>V, the number of indices covered.</summary>
    public int VocabularySize => offsets[^1];

    public IReadOnlyList<int> Sizes => sizes;

    /// <summary>Start of each cluster, plus V at the end (n + 1 values).</summary>
    public IReadOnlyList<int> Offsets => offsets;

    /// <summary>m when every cluster has the same size (then cluster = index / m); null for unequal sizes.</summary>
    public int? UniformSize { get; }

    public bool IsUniform => UniformSize is not null;

    /// <summary>int64 [V]: the cluster of every index, on <paramref name="device"/> (cached; do not dispose).</summary>
    public Tensor ClusterOfIndex(Device? device = null)
    {
        device ??= CPU;
        var key = (device.type, device.index);
        lock (clusterOfCache)
        {
            if (clusterOfCache.TryGetValue(key, out var cached)) return cached;
            var table = new long[VocabularySize];
            for (int j = 0; j < sizes.Length; j++) Array.Fill(table, j, offsets[j], sizes[j]);
            var tensor = torch.tensor(table, [VocabularySize], ScalarType.Int64).to(device);
            tensor.DetachFromDisposeScope();
            clusterOfCache[key] = tensor;
            return tensor;
        }
    }

    /// <summary>int64 [...] indices → int64 [...] clusters (same shape, same device).</summary>
    public Tensor ClusterOf(Tensor indices)
    {
        if (UniformSize is int m) return indices.div(m, RoundingMode.floor);
        return ClusterOfIndex(indices.device).index_select(0, indices.flatten()).reshape(indices.shape);
    }

    /// <summary>The cluster of one index.</summary>
    public int ClusterOf(int index)
    {
        if ((uint)index >= (uint)VocabularySize)
            throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside [0, {VocabularySize}).");
        if (UniformSize is int m) return index / m;
        int j = Array.BinarySearch(offsets, index);
        return j >= 0 ? j : ~j - 1;
    }

    /// <summary>"128 × 128" for uniform layouts, "128 clusters of 58–239" otherwise.</summary>
    public override string ToString() =>
        UniformSize is int m ? $"{Count} × {m}" : $"{Count} clusters of {sizes.Min()}–{sizes.Max()}";
}
