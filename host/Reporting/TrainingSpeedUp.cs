namespace IAR.Host.Reporting;

/// <summary>
/// How much sooner an arm reaches the FIDs its baseline passes through: the baseline's steps to reach each of
/// <see cref="LevelCount"/> FID levels spread over its own descent, over the arm's steps to reach the same levels.
/// </summary>
/// <remarks>
/// Why levels along the descent, not the baseline's final FID: on the final plateau the curve is nearly flat, so a
/// change of the last FID within its sampling noise moves the crossing by hundreds of steps (or makes it vanish); on the
/// descent a crossing moves by a few steps. Each crossing interpolates linearly between the two evaluations around it.
/// With seeds the ratio is paired by seed (one geometric mean over levels per seed, then a t interval over seeds); with
/// one seed the training noise is not measured, so the interval spans the ratio at every level under the noise of each
/// evaluation (<see cref="EvaluationNoise"/>), which the report shows but does not judge (<see cref="ArmComparison.SpeedAnswer"/>):
/// the seed-to-seed noise it leaves out moved the quickstart's one-seed ratio from 1.15× to 0.88×.
/// </remarks>
public static class TrainingSpeedUp
{
    /// <summary>FID levels per baseline curve: k/(LevelCount + 1) of the way from its first to its final FID, k = 1 … LevelCount.</summary>
    public const int LevelCount = 5;

    /// <summary>Draws of evaluation noise for a single seed's interval (seeded: the same curves give the same interval).</summary>
    public const int NoiseDraws = 400;

    const int NoiseSeed = 20_240_527;

    /// <summary>
    /// The step at which the piecewise-linear curve first reaches <paramref name="target"/> (≤ target); null when it
    /// never does. A curve already at or below the target at its first evaluation gives that step (an upper bound: no
    /// earlier evaluation exists to interpolate from).
    /// </summary>
    /// <param name="curve">(step, FID) in increasing step order.</param>
    public static double? StepsToReach(IReadOnlyList<(double Step, double Value)> curve, double target)
    {
        for (int i = 0; i < curve.Count; i++)
        {
            var (step, value) = curve[i];
            if (value > target) continue;
            if (i == 0) return step;
            var (previousStep, previousValue) = curve[i - 1];
            double fraction = (previousValue - target) / (previousValue - value);   // previousValue > target ≥ value
            return previousStep + fraction * (step - previousStep);
        }
        return null;
    }

    /// <summary>
    /// The FID levels of <paramref name="baseline"/>: evenly inside (first FID, final FID), ends excluded; empty when the
    /// curve has fewer than two evaluations or does not fall.
    /// </summary>
    public static IReadOnlyList<double> Levels(IReadOnlyList<(double Step, double Value)> baseline)
    {
        if (baseline.Count < 2 || !(baseline[0].Value > baseline[^1].Value)) return [];
        double first = baseline[0].Value, drop = baseline[0].Value - baseline[^1].Value;
        return Enumerable.Range(1, LevelCount).Select(k => first - drop * k / (LevelCount + 1.0)).ToArray();
    }

    /// <summary>
    /// Baseline steps over arm steps to each level of <paramref name="levels"/>. A level the arm never reaches counts as
    /// reached at its last evaluation: an upper bound of its ratio, so that a slower arm is not made to look faster by
    /// leaving its worst levels out. Levels either curve reaches at step 0 have no ratio and are left out.
    /// </summary>
    public static IReadOnlyList<double> LevelRatios(IReadOnlyList<(double Step, double Value)> baseline, IReadOnlyList<(double Step, double Value)> arm,
        IReadOnlyList<double> levels)
    {
        if (arm.Count == 0) return [];
        var ratios = new List<double>(levels.Count);
        foreach (var level in levels)
        {
            double? b = StepsToReach(baseline, level);
            double a = StepsToReach(arm, level) ?? arm[^1].Step;
            if (b is double baseSteps && baseSteps > 0 && a > 0) ratios.Add(baseSteps / a);
        }
        return ratios;
    }

    /// <summary>
    /// The speed-up of <paramref name="arm"/> over <paramref name="baseline"/>, paired by seed (the seeds both have);
    /// null when no pair has a baseline curve that falls.
    /// </summary>
    /// <param name="baseline">Each seed's FID curve, (step, FID) in increasing step order.</param>
    /// <param name="noise">The noise of one evaluation's FID, used with one seed; null: the range of the ratios over levels alone.</param>
    public static SpeedUpEstimate? Estimate(IReadOnlyDictionary<int, IReadOnlyList<(double Step, double Value)>> baseline,
        IReadOnlyDictionary<int, IReadOnlyList<(double Step, double Value)>> arm, EvaluationNoise? noise)
    {
        var pairs = baseline.Keys.Intersect(arm.Keys).Order()
            .Select(seed => (Seed: seed, Baseline: baseline[seed], Arm: arm[seed], Levels: Levels(baseline[seed])))
            .Select(p => (p.Seed, p.Baseline, p.Arm, p.Levels, Ratios: LevelRatios(p.Baseline, p.Arm, p.Levels)))
            .Where(p => p.Ratios.Count > 0)
            .ToArray();
        if (pairs.Length == 0) return null;
        var allLevels = pairs.SelectMany(p => p.Levels).ToArray();
        int notReached = pairs.Sum(p => p.Levels.Count(level => StepsToReach(p.Arm, level) is null));
        // Each seed's geometric mean over its levels: the replicates of the t interval, shown per seed in the report.
        var seedRatios = pairs.ToDictionary(p => p.Seed, p => Math.Exp(p.Ratios.Average(Math.Log)));
        if (pairs.Length >= 2)
        {
            // A t interval of the logs of each seed's geometric mean: seeds are the replicates.
            var logs = pairs.Select(p => Math.Log(seedRatios[p.Seed])).ToArray();
            var log = ConfidenceInterval.OfMean(logs);
            return new SpeedUpEstimate(new ConfidenceInterval(Math.Exp(log.Estimate), Math.Exp(log.Low), Math.Exp(log.High)),
                allLevels.Max(), allLevels.Min(), pairs[0].Levels.Count, pairs.Length, notReached,
                $"t interval over {pairs.Length} seeds' ratios (each the geometric mean over its levels)", seedRatios);
        }
        var (_, b, a, _, ratios) = pairs[0];
        double estimate = Math.Exp(ratios.Average(Math.Log));
        if (noise is not { } n || !(n.FloorSd > 0 || n.RelativeSd > 0))
            return new SpeedUpEstimate(new ConfidenceInterval(estimate, ratios.Min(), ratios.Max()), allLevels.Max(), allLevels.Min(),
                ratios.Count, 1, notReached, "one seed, no noise floor: the range of the ratios over levels", seedRatios);
        var pooled = new List<double>(ratios);
        var random = new Random(NoiseSeed);
        for (int draw = 0; draw < NoiseDraws; draw++)
        {
            var noisyBaseline = Perturbed(b, n, random);
            pooled.AddRange(LevelRatios(noisyBaseline, Perturbed(a, n, random), Levels(noisyBaseline)));
        }
        return new SpeedUpEstimate(ConfidenceInterval.OfPercentiles(estimate, pooled), allLevels.Max(), allLevels.Min(), ratios.Count, 1, notReached,
            FormattableString.Invariant(
                $"one seed: 95 % of the ratios at every level when each evaluation moves by its noise (sd = the larger of the floor's {n.FloorSd:F2} and {n.RelativeSd:P0} of its FID; {NoiseDraws} draws)"),
            seedRatios);
    }

    /// <summary>The curve with independent Gaussian noise of <paramref name="noise"/>'s sd added to every FID.</summary>
    static (double Step, double Value)[] Perturbed(IReadOnlyList<(double Step, double Value)> curve, EvaluationNoise noise, Random random) =>
        curve.Select(p => (p.Step, p.Value + noise.At(p.Value) * Gaussian(random))).ToArray();

    /// <summary>A standard normal draw (Box–Muller).</summary>
    internal static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

/// <summary>How much sooner an arm reaches its baseline's FIDs.</summary>
/// <param name="Ratio">Baseline steps / arm steps (geometric mean over levels), with its 95 % interval: &gt; 1 is faster.</param>
/// <param name="HighestLevel">The highest FID level used (earliest on the descent).</param>
/// <param name="LowestLevel">The lowest FID level used.</param>
/// <param name="Levels">Levels per seed.</param>
/// <param name="Seeds">Seed pairs the ratio comes from.</param>
/// <param name="LevelsNotReached">Levels (over all seeds) the arm never reached; each counted at its last evaluation.</param>
/// <param name="Basis">How the interval was formed, for the report.</param>
/// <param name="SeedRatios">Each seed pair's ratio (geometric mean over its levels), by seed.</param>
public sealed record SpeedUpEstimate(ConfidenceInterval Ratio, double HighestLevel, double LowestLevel, int Levels, int Seeds, int LevelsNotReached, string Basis,
    IReadOnlyDictionary<int, double> SeedRatios);
