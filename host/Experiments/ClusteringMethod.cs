namespace IAR.Host.Experiments;

/// <summary>How IAR groups the codebook into clusters (the ablations of the paper and a few more).</summary>
public enum ClusteringMethod
{
    /// <summary>Balanced k-means: n clusters of exactly m codes (the method).</summary>
    BalancedKmeans,

    /// <summary>A seeded random split into n clusters of m codes (ablation: clusters without similarity).</summary>
    Random,

    /// <summary>Plain (unbalanced) k-means; clusters of unequal size (ablation: no balance).</summary>
    Kmeans,

    /// <summary>No rearrangement: contiguous blocks of the original numbering (ablation: CCE alone).</summary>
    None,
}
