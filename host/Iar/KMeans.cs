using IAR.Abstractions;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// Plain (unbalanced) Lloyd k-means: every code to its nearest centre, so clusters have unequal sizes (the "no balance"
/// ablation). An emptied cluster is re-seeded with the code farthest from its centre, so every cluster keeps ≥ 1 code.
/// </summary>
public sealed record KMeans
{
    public required int Clusters { get; init; }

    public int MaxIterations { get; init; } = 100;

    public ulong Seed { get; init; }

    public KMeansInitialisation Initialisation { get; init; } = KMeansInitialisation.PlusPlus;

    /// <inheritdoc cref="BalancedKMeans.Fit(Tensor, bool, string)"/>
    public ClusteringResult Fit(Tensor codebook, bool normalize = true, string source = "codebook") =>
        Fit(CodebookVectors.From(codebook, normalize, source));

    /// <exception cref="ConfigurationException">n is below 1 or above V.</exception>
    public ClusteringResult Fit(CodebookVectors vectors)
    {
        if (Clusters < 1 || Clusters > vectors.Count)
            throw new ConfigurationException($"clusters = {Clusters} is invalid for a codebook of {vectors.Count} codes; a value in [1, {vectors.Count}] is accepted.");
        if (MaxIterations < 1) throw new ConfigurationException($"max_iterations = {MaxIterations} is invalid; at least 1 is accepted.");
        var initial = InitialCentres.Choose(vectors, Clusters, Initialisation, Seed);
        return LloydIterations.Run(vectors, Clusters, initial, MaxIterations, new NearestAssignment(vectors.Count, Clusters));
    }
}
