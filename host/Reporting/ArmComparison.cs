using IAR.Host.Evaluation;

namespace IAR.Host.Reporting;

/// <summary>
/// How one arm compares with its baseline on FID: the numbers behind the report's verdict, in two parts that each
/// carry an interval — speed (how much sooner it reaches the FIDs the baseline passes through) and end quality (final
/// FID difference). Each answer names a difference only when its interval excludes "no difference", and only with two
/// or more seeds: one seed's intervals hold the evaluation noise alone, and the quickstart's one-seed speed-up moved from
/// 1.15× [1.05, 1.30] (seed 0) to 0.88× [0.81, 0.94] (seed 1) with the training seed (2026-12-06).
/// </summary>
/// <param name="Arm">The arm compared.</param>
/// <param name="Baseline">The arm it is compared with: the run's baseline, or an arm of a sweep with its settings and IAR off.</param>
/// <param name="FinalFid">Its FID at each seed's last evaluation, over seeds.</param>
/// <param name="FinalStep">Its last evaluated step.</param>
/// <param name="Speed">Null when the baseline's FID does not fall (no levels to reach).</param>
public sealed record ArmComparison(string Arm, string Baseline, SeedSummary FinalFid, long FinalStep, SpeedUpEstimate? Speed, EndQualityEstimate EndQuality)
{
    /// <summary>Faster only when the whole interval of the ratio is above 1, slower only when below; not judged with one seed.</summary>
    public SpeedAnswer SpeedAnswer => Speed switch
    {
        null => SpeedAnswer.NotMeasured,
        { Seeds: < 2 } => SpeedAnswer.OneSeed,
        { Ratio.Low: > 1 } => SpeedAnswer.Faster,
        { Ratio.High: < 1 } => SpeedAnswer.Slower,
        _ => SpeedAnswer.NoDifferenceDetected,
    };

    /// <summary>Better only when the whole interval of the FID difference is below 0, worse only when above; not judged with one seed.</summary>
    public EndQualityAnswer EndQualityAnswer => EndQuality switch
    {
        { Seeds: < 2 } => EndQualityAnswer.OneSeed,
        { Difference.High: < 0 } => EndQualityAnswer.Better,
        { Difference.Low: > 0 } => EndQualityAnswer.Worse,
        _ => EndQualityAnswer.NoDifferenceDetected,
    };

    /// <summary>
    /// <paramref name="arm"/> against <paramref name="baseline"/> from the evaluation records (FID under <paramref name="metric"/>);
    /// null when either has no FID.
    /// </summary>
    /// <param name="floor">The noise floor at the sample count the two arms evaluate with (the wider when they differ), or null.</param>
    public static ArmComparison? Of(IReadOnlyList<MetricPoint> evaluations, string arm, string baseline, NoiseFloor? floor, string metric = MetricNames.Fid)
    {
        var armCurves = SeedCurves(evaluations, arm, metric);
        var baseCurves = SeedCurves(evaluations, baseline, metric);
        if (armCurves.Count == 0 || baseCurves.Count == 0) return null;
        // Without seeds in common the mean curves stand as one pair.
        if (!armCurves.Keys.Intersect(baseCurves.Keys).Any())
        {
            armCurves = new Dictionary<int, IReadOnlyList<(double, double)>> { [0] = MeanCurve(evaluations, arm, metric) };
            baseCurves = new Dictionary<int, IReadOnlyList<(double, double)>> { [0] = MeanCurve(evaluations, baseline, metric) };
        }
        var armSeeds = SeedCurves(evaluations, arm, metric);
        var baseSeeds = SeedCurves(evaluations, baseline, metric);
        var finals = armSeeds.ToDictionary(c => c.Key, c => c.Value[^1].Value);
        var (armEnds, baseEnds) = LastSharedEvaluations(armSeeds, baseSeeds);
        var (armSpans, baseSpans) = SharedSpans(armCurves, baseCurves);
        return new ArmComparison(arm, baseline, SeedSummary.Of(finals.Values), MetricCurves.FinalStep(evaluations, arm, metric) ?? 0,
            TrainingSpeedUp.Estimate(baseSpans, armSpans, EvaluationNoise.Of(floor)), Reporting.EndQuality.Estimate(baseEnds, armEnds, floor));
    }

    /// <summary>
    /// Each seed pair's curves cut at the last step both reached, for the speed-up: while one job still runs, the
    /// baseline's levels then stop where the running arm's curve stops. Uncut, a running arm would count every level below
    /// its current FID as reached at its current step, which makes it look faster than it may turn out.
    /// </summary>
    static (Dictionary<int, IReadOnlyList<(double Step, double Value)>> Arm, Dictionary<int, IReadOnlyList<(double Step, double Value)>> Baseline) SharedSpans(
        Dictionary<int, IReadOnlyList<(double Step, double Value)>> arm, Dictionary<int, IReadOnlyList<(double Step, double Value)>> baseline)
    {
        var armSpans = new Dictionary<int, IReadOnlyList<(double, double)>>();
        var baseSpans = new Dictionary<int, IReadOnlyList<(double, double)>>();
        foreach (var (seed, curve) in arm)
        {
            if (!baseline.TryGetValue(seed, out var other) || curve.Count == 0 || other.Count == 0) continue;
            double end = Math.Min(curve[^1].Step, other[^1].Step);
            armSpans[seed] = curve.Where(p => p.Step <= end).ToArray();
            baseSpans[seed] = other.Where(p => p.Step <= end).ToArray();
        }
        return (armSpans, baseSpans);
    }

    /// <summary>
    /// Each seed pair's values at the last step both arms evaluated: their final evaluations once both jobs are done,
    /// and like for like while one still runs (a report of a run in progress would otherwise set a running job's
    /// step-300 FID against a finished baseline's step-1200 one). Without a shared step, each arm's final evaluations.
    /// </summary>
    static (Dictionary<int, double> Arm, Dictionary<int, double> Baseline) LastSharedEvaluations(
        Dictionary<int, IReadOnlyList<(double Step, double Value)>> arm, Dictionary<int, IReadOnlyList<(double Step, double Value)>> baseline)
    {
        var armEnds = new Dictionary<int, double>();
        var baseEnds = new Dictionary<int, double>();
        foreach (var (seed, curve) in arm)
        {
            if (!baseline.TryGetValue(seed, out var other)) continue;
            var steps = other.Select(p => p.Step).ToHashSet();
            int last = curve.Count - 1;
            while (last >= 0 && !steps.Contains(curve[last].Step)) last--;
            if (last < 0) continue;
            armEnds[seed] = curve[last].Value;
            baseEnds[seed] = other.First(p => p.Step == curve[last].Step).Value;
        }
        if (armEnds.Count > 0) return (armEnds, baseEnds);
        return (arm.ToDictionary(c => c.Key, c => c.Value[^1].Value), baseline.ToDictionary(c => c.Key, c => c.Value[^1].Value));
    }

    /// <summary>Each seed's (step, value) curve of <paramref name="metric"/>, in step order.</summary>
    static Dictionary<int, IReadOnlyList<(double Step, double Value)>> SeedCurves(IReadOnlyList<MetricPoint> evaluations, string arm, string metric) =>
        evaluations.Where(p => p.Arm == arm && p.Values.ContainsKey(metric))
            .GroupBy(p => p.Seed)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<(double, double)>)g.OrderBy(p => p.Step).Select(p => ((double)p.Step, p.Values[metric])).ToArray());

    static IReadOnlyList<(double Step, double Value)> MeanCurve(IReadOnlyList<MetricPoint> evaluations, string arm, string metric) =>
        MetricCurves.Curve(evaluations, arm, metric).Select(p => ((double)p.Step, p.Value.Mean)).ToArray();
}

/// <summary>The speed part of a verdict.</summary>
/// <remarks><see cref="SpeedAnswer.OneSeed"/>: one seed pair, whose interval cannot hold the seed-to-seed noise: no difference is named.</remarks>
public enum SpeedAnswer { Faster, Slower, NoDifferenceDetected, NotMeasured, OneSeed }

/// <summary>The end-quality part of a verdict.</summary>
/// <remarks><see cref="EndQualityAnswer.OneSeed"/>: one seed pair, whose interval cannot hold the seed-to-seed noise: no difference is named.</remarks>
public enum EndQualityAnswer { Better, Worse, NoDifferenceDetected, OneSeed }

/// <summary>A value summarised over seeds: mean, sample standard deviation (0 for one seed), extremes and count.</summary>
public sealed record SeedSummary(double Mean, double StandardDeviation, double Min, double Max, int Count)
{
    public static SeedSummary Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("A summary needs at least one value.", nameof(values));
        double mean = values.Average();
        double sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return new SeedSummary(mean, sd, values.Min(), values.Max(), values.Count);
    }
}
