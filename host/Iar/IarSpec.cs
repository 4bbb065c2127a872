using IAR.Host.Configuration;
using System.ComponentModel;

namespace IAR.Host.Iar;

public sealed record IarSpec : ISpecSection
{
    [Description("apply IAR: rearrange the codebook and add the cluster-oriented loss")]
    public bool Enabled { get; init; }

    [Description("m, codes per cluster (official: 128); give this or clusters")]
    public int? ClusterSize { get; init; } = 128;

    [Description("n, number of clusters; give this or cluster_size")]
    public int? Clusters { get; init; }

    [Description("λ, weight of the cluster cross-entropy (official: 1)")]
    public double Lambda { get; init; } = 1.0;

    [Description("balanced-kmeans | random | kmeans (unbalanced) | none (original numbering)")]
    public ClusteringMethod Clustering { get; init; } = ClusteringMethod.BalancedKmeans;

    [Description("cluster L2-normalised codebook vectors (official)")]
    public bool Normalize { get; init; } = true;

    [Description("order codes inside a cluster by nearest neighbour from the centre out (official)")]
    public bool InnerOrder { get; init; } = true;

    [Description("balanced assignment per k-means iteration: optimal (minimum-cost flow) | greedy (official)")]
    public BalancedAssignment Assignment { get; init; } = BalancedAssignment.Optimal;

    [Description("initial k-means centres: plus-plus (k-means++) | random (official randperm)")]
    public KMeansInitialisation Initialisation { get; init; } = KMeansInitialisation.PlusPlus;

    [Description("codes unused in the training tokens: apart (balanced k-means clusters the live codes only, dead codes fill the last clusters) | mixed (clustered with the live ones)")]
    public DeadCodeTreatment DeadCodes { get; init; } = DeadCodeTreatment.Apart;

    [Description("k-means iteration limit")]
    public int MaxIterations { get; init; } = 100;

    [Description("label smoothing of the cluster cross-entropy")]
    public double LabelSmoothing { get; init; }

    [PathValue, Description("use this permutation (safetensors with new_to_old, or IAR's mapping-*.pt) instead of clustering")]
    public string? Permutation { get; init; }

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (ClusterSize is not null && Clusters is not null)
            yield return ("clusters", "give either cluster_size (m) or clusters (n), not both (set the other to null).");
        if (Enabled && ClusterSize is null && Clusters is null)
            yield return ("cluster_size", "IAR needs cluster_size (m) or clusters (n); plain kmeans also needs the number of clusters.");
        if (ClusterSize is < 1) yield return ("cluster_size", $"cluster_size = {ClusterSize} is invalid; at least 1 is accepted.");
        if (Clusters is < 1) yield return ("clusters", $"clusters = {Clusters} is invalid; at least 1 is accepted.");
        if (Lambda < 0) yield return ("lambda", $"lambda = {Lambda} is invalid; a value ≥ 0 is accepted.");
        if (MaxIterations < 1) yield return ("max_iterations", "max_iterations must be ≥ 1.");
        if (LabelSmoothing is < 0 or >= 1) yield return ("label_smoothing", "label_smoothing must be in [0, 1).");
    }
}

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

/// <summary>Where balanced k-means puts the codes that never occur in the training tokens (dead codes).</summary>
public enum DeadCodeTreatment
{
    /// <summary>
    /// The live codes are clustered among themselves into ⌈live / m⌉ clusters (the lowest-index dead codes fill the
    /// last of these up to m), the other dead codes fill the last clusters in index order: no live cluster is diluted
    /// by more than m − 1 dead codes, and no cluster is spent on them while live codes are squeezed together.
    /// </summary>
    Apart,

    /// <summary>Dead codes are clustered like live ones (their random initial vectors decide where they land).</summary>
    Mixed,
}
