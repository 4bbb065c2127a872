namespace IAR.Host.Clustering;

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
