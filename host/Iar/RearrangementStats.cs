
namespace IAR.Host.Iar;

/// <summary>What a rearrangement did and how good it is (printed by <c>iar rearrange</c>, logged by the run).</summary>
/// <param name="Method">The clustering method.</param>
/// <param name="Layout">The clusters of the new numbering.</param>
/// <param name="Iterations">k-means iterations (0 for random, none or a loaded permutation).</param>
/// <param name="Converged">Whether k-means stopped before its iteration limit (true where there was nothing to iterate).</param>
/// <param name="ErrorBefore">Within-cluster error (official definition) of the same blocks over the original numbering.</param>
/// <param name="ErrorAfter">Within-cluster error of the blocks of the new numbering.</param>
/// <param name="AdjacentBefore">Mean squared distance between neighbouring codes inside a block, clusters gathered in original order.</param>
/// <param name="AdjacentAfter">The same after the inner-cluster ordering.</param>
/// <param name="ClusteringTime">Wall time of the clustering alone.</param>
/// <param name="TotalTime">Wall time of the whole plan (clustering, ordering, measures).</param>
/// <param name="Health">Live codes per cluster; null when the plan was made without the training tokens.</param>
public sealed record RearrangementStats(
    ClusteringMethod Method,
    ClusterLayout Layout,
    int Iterations,
    bool Converged,
    double ErrorBefore,
    double ErrorAfter,
    double AdjacentBefore,
    double AdjacentAfter,
    TimeSpan ClusteringTime,
    TimeSpan TotalTime,
    ClusterHealth? Health = null)
{
    /// <summary>Key/value pairs for logs and metadata (invariant culture).</summary>
    public IReadOnlyDictionary<string, string> ToDictionary()
    {
        var pairs = Pairs();
        foreach (var (key, value) in Health?.ToPairs() ?? []) pairs[key] = value;
        return pairs;
    }

    Dictionary<string, string> Pairs() => new()
    {
        ["method"] = Method.ToString(),
        ["clusters"] = Layout.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["cluster_size_min"] = Layout.Sizes.Min().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["cluster_size_max"] = Layout.Sizes.Max().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["iterations"] = Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["converged"] = Converged ? "true" : "false",
        ["error_before"] = ErrorBefore.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["error_after"] = ErrorAfter.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["adjacent_before"] = AdjacentBefore.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["adjacent_after"] = AdjacentAfter.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["clustering_s"] = ClusteringTime.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["total_s"] = TotalTime.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
    };
}
