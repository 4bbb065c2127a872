using IAR.Abstractions;

namespace IAR.Host.Reporting;

/// <summary>
/// One verdict over several runs of one experiment that differ in their <c>seed</c> (the data subset, feature extractor
/// and, where the run trains one, tokenizer a run's GPT seeds share), each run a replicate: the speed-up is a t
/// interval over the runs' ratios (each run's the geometric mean over its seeds), the end quality one over the runs'
/// mean final-FID differences, and the answers follow the same rules as one run's
/// (<see cref="ArmComparison.SpeedAnswer"/>, <see cref="ArmComparison.EndQualityAnswer"/>).
/// </summary>
/// <remarks>
/// Why runs, not seeds: a run's interval holds the spread of its GPT seeds only, and six quickstart runs showed the
/// size of IAR's lead moving with the run's own seed (0.99× to 1.23×) far beyond that spread (sd of the runs' mean log
/// speed-up 0.075 against 0.031 expected from the seeds inside them, README), so one run's verdict answers for its
/// tokenizer. Runs are equally weighted whatever their seed counts: the between-run part dominated there. (With the
/// quickstart's shipped tokenizer the runs share it, and a t interval over runs is the cautious one.)
/// </remarks>
public static class RunPooling
{
    /// <summary>Each arm compared in every run, pooled over the runs; arms are matched by name and baseline.</summary>
    /// <param name="runs">At least two runs, each its name (for messages) and its comparisons (<see cref="RunReport.Comparisons"/>).</param>
    /// <exception cref="ConfigurationException">Fewer than two runs, a run with no comparison, or an arm compared in one run and not in another.</exception>
    public static IReadOnlyList<PooledComparison> Pool(IReadOnlyList<(string Run, IReadOnlyList<ArmComparison> Comparisons)> runs)
    {
        if (runs.Count < 2) throw new ConfigurationException($"pooling needs at least two run folders, got {runs.Count}; pass the runs of one experiment with different `seed` values.");
        var keys = runs[0].Comparisons.Select(c => (c.Arm, c.Baseline)).ToArray();
        if (keys.Length == 0) throw new ConfigurationException($"{runs[0].Run} compares no arm with a baseline (no FID recorded yet?); a run whose report has a verdict is accepted.");
        foreach (var (run, comparisons) in runs.Skip(1))
        {
            var own = comparisons.Select(c => (c.Arm, c.Baseline)).ToHashSet();
            if (!own.SetEquals(keys))
                throw new ConfigurationException(
                    $"{run} compares {Describe(own)} but {runs[0].Run} compares {Describe(keys)}; runs of one experiment with the same arms are accepted.");
        }
        return keys.Select(key =>
        {
            var perRun = runs.Select(r => (r.Run, Comparison: r.Comparisons.Single(c => (c.Arm, c.Baseline) == key))).ToArray();
            var comparisons = perRun.Select(r => r.Comparison).ToArray();
            // The plans stand on the seed pairs of all runs, not on the runs' means: what one run of n seeds would see.
            var speedPlan = SeedPlanning.Of(comparisons.SelectMany(c => c.Speed?.SeedRatios.Values ?? []).Select(r => Math.Log(r)).ToArray());
            var endPlan = SeedPlanning.Of(comparisons.SelectMany(c => c.EndQuality.SeedDifferences.Values).ToArray(),
                comparisons.Max(c => c.EndQuality.FloorMargin) ?? 0);
            return new PooledComparison(perRun, Pooled(key.Arm, key.Baseline, comparisons), speedPlan, endPlan);
        }).ToArray();
    }

    static string Describe(IEnumerable<(string Arm, string Baseline)> keys) =>
        string.Join(", ", keys.OrderBy(k => k.Arm, StringComparer.Ordinal).Select(k => $"'{k.Arm}' with '{k.Baseline}'"));

    /// <summary>The runs' comparisons of one arm as one, its "seeds" the runs (numbered 0, 1, … in the given order).</summary>
    static ArmComparison Pooled(string arm, string baseline, IReadOnlyList<ArmComparison> runs)
    {
        var finals = SeedSummary.Of(runs.Select(r => r.FinalFid.Mean).ToArray());
        var speeds = runs.Select((r, i) => (Run: i, r.Speed)).Where(r => r.Speed is not null).ToArray();
        SpeedUpEstimate? speed = null;
        if (speeds.Length >= 2)
        {
            var log = ConfidenceInterval.OfMean(speeds.Select(s => Math.Log(s.Speed!.Ratio.Estimate)).ToArray());
            speed = new SpeedUpEstimate(new ConfidenceInterval(Math.Exp(log.Estimate), Math.Exp(log.Low), Math.Exp(log.High)),
                speeds.Max(s => s.Speed!.HighestLevel), speeds.Min(s => s.Speed!.LowestLevel), speeds[0].Speed!.Levels, speeds.Length,
                speeds.Sum(s => s.Speed!.LevelsNotReached),
                $"t interval over {speeds.Length} runs' ratios (each the geometric mean over its seeds)" +
                (speeds.Length < runs.Count ? $"; {runs.Count - speeds.Length} run(s) without a falling baseline left out" : ""),
                speeds.ToDictionary(s => s.Run, s => s.Speed!.Ratio.Estimate));
        }
        var differences = runs.Select(r => r.EndQuality.Difference.Estimate).ToArray();
        var endQuality = new EndQualityEstimate(ConfidenceInterval.OfMean(differences), runs.Count, null,
            $"t interval over {runs.Count} runs' mean differences", differences.Select((d, i) => (d, i)).ToDictionary(x => x.i, x => x.d));
        return new ArmComparison(arm, baseline, finals, runs.Max(r => r.FinalStep), speed, endQuality);
    }
}

/// <summary>One arm over several runs: each run's own comparison and the pooled one (its replicates are the runs).</summary>
/// <param name="SpeedPlan">From every run's seed pairs, the chance a run of n seeds names the speed-up (pairs: log ratios); null with too few pairs.</param>
/// <param name="EndQualityPlan">The same for the final-FID difference, with the widest noise floor of the runs.</param>
public sealed record PooledComparison(IReadOnlyList<(string Run, ArmComparison Comparison)> PerRun, ArmComparison Pooled,
    SeedPlan? SpeedPlan, SeedPlan? EndQualityPlan);
