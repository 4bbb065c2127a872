namespace IAR.Host.Reporting;

/// <summary>Curves of one metric per arm, summarised over seeds, and each arm's final values.</summary>
public static class MetricCurves
{
    /// <summary>
    /// The curve of <paramref name="metric"/> for <paramref name="arm"/>: one point per step, over the seeds that
    /// logged it at that step. Steps logged by fewer seeds than the arm has are left out so the mean never mixes
    /// seed subsets (except when no step has every seed, then each step uses what it has).
    /// </summary>
    public static IReadOnlyList<CurvePoint> Curve(IReadOnlyList<MetricPoint> points, string arm, string metric)
    {
        var mine = points.Where(p => p.Arm == arm && p.Values.ContainsKey(metric)).ToArray();
        int seeds = mine.Select(p => p.Seed).Distinct().Count();
        var byStep = mine.GroupBy(p => p.Step).OrderBy(g => g.Key).ToArray();
        var complete = byStep.Where(g => g.Select(p => p.Seed).Distinct().Count() == seeds).ToArray();
        return (complete.Length > 0 ? complete : byStep)
            .Select(g => new CurvePoint(g.Key, SeedSummary.Of(g.Select(p => p.Values[metric]).ToArray())))
            .ToArray();
    }

    /// <summary>The metric at each seed's last evaluated step, summarised over seeds; null when no seed logged it.</summary>
    public static SeedSummary? Final(IReadOnlyList<MetricPoint> points, string arm, string metric)
    {
        var finals = points.Where(p => p.Arm == arm && p.Values.ContainsKey(metric))
            .GroupBy(p => p.Seed)
            .Select(g => g.MaxBy(p => p.Step)!.Values[metric])
            .ToArray();
        return finals.Length == 0 ? null : SeedSummary.Of(finals);
    }

    /// <summary>The last step at which <paramref name="arm"/> logged <paramref name="metric"/> (over all seeds), or null.</summary>
    public static long? FinalStep(IReadOnlyList<MetricPoint> points, string arm, string metric) =>
        points.Where(p => p.Arm == arm && p.Values.ContainsKey(metric)).Select(p => (long?)p.Step).Max();
}

/// <summary>One step of a metric curve of an arm, summarised over the seeds that logged it.</summary>
public sealed record CurvePoint(long Step, SeedSummary Value);
