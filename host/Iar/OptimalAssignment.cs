namespace IAR.Host.Iar;

/// <summary>
/// <see cref="BalancedAssignment.Optimal"/>: the official greedy while the centres still move a lot (more than
/// <see cref="WarmUpChange"/> of the codes change cluster in an iteration), then the exact minimum-cost assignment
/// (<see cref="ShortestPathAssignment"/>) for every remaining iteration. Early centres are far from their final
/// place, so solving their assignment exactly buys nothing; once they settle, the exact assignment makes every
/// iteration lower the error and ends at a fixed point that the greedy alone does not reach (lower error, fewer
/// iterations).
/// </summary>
internal sealed class OptimalAssignment(int count, int clusters, int capacity) : IClusterAssignment
{
    /// <summary>Fraction of codes changing cluster below which the exact assignment takes over.</summary>
    public const double WarmUpChange = 0.05;

    readonly GreedyAssignment greedy = new(count, clusters, capacity);
    readonly ShortestPathAssignment exact = new(count, clusters, capacity);
    readonly int[] before = new int[count];
    bool exactPhase;

    /// <summary>Iterations that used the greedy.</summary>
    public int WarmUpIterations { get; private set; }

    public ShortestPathAssignment Exact => exact;

    public void Assign(float[] distances, int[] assignment)
    {
        if (exactPhase)
        {
            exact.Assign(distances, assignment);
            return;
        }
        Array.Copy(assignment, before, count);
        greedy.Assign(distances, assignment);
        WarmUpIterations++;
        int changed = 0;
        for (int i = 0; i < count; i++)
            if (before[i] != assignment[i]) changed++;
        exactPhase = changed < WarmUpChange * count;
    }
}
