using System.Globalization;

namespace IAR.Host.Iar;

/// <summary>How well a generator's top-1 prediction hits the target token and the target's cluster.</summary>
/// <param name="Count">Positions measured.</param>
/// <param name="TokenAccuracy">Share of positions whose top-1 token is the target.</param>
/// <param name="ClusterAccuracy">Share of positions whose top-1 token lies in the target's cluster.</param>
/// <param name="WrongTop1RightCluster">
/// Among positions whose top-1 token is wrong, the share where it still lies in the target's cluster: IAR's
/// robustness claim made measurable (null when no prediction was wrong).
/// </param>
/// <param name="ChanceWrongTop1RightCluster">
/// The same share for a wrong token drawn uniformly from the other V − 1 indices: Σ_j m_j(m_j − 1) / (V(V − 1)) averaged
/// over targets, (m − 1)/(V − 1) for equal clusters. A model that ignores clusters scores about this.
/// </param>
/// <param name="TokenNll">Mean negative log-likelihood of the target token (nats).</param>
public sealed record TokenPredictionMetrics(
    long Count,
    double TokenAccuracy,
    double ClusterAccuracy,
    double? WrongTop1RightCluster,
    double ChanceWrongTop1RightCluster,
    double TokenNll)
{
    /// <summary>The metrics.jsonl keys (agreed names); absent values are left out.</summary>
    public IReadOnlyDictionary<string, double> ToMetrics()
    {
        var metrics = new Dictionary<string, double>
        {
            ["token_nll"] = TokenNll,
            ["token_accuracy"] = TokenAccuracy,
            ["cluster_accuracy"] = ClusterAccuracy,
        };
        if (WrongTop1RightCluster is double rate) metrics["wrong_top1_right_cluster"] = rate;
        return metrics;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"token acc {TokenAccuracy:P2}, cluster acc {ClusterAccuracy:P2}, wrong top-1 in right cluster {WrongTop1RightCluster?.ToString("P2", CultureInfo.InvariantCulture) ?? "n/a"} (chance {ChanceWrongTop1RightCluster:P2}), NLL {TokenNll:F4} over {Count} positions");
}
