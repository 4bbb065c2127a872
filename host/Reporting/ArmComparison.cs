namespace IAR.Host.Reporting;

/// <summary>How one arm compares with the baseline on FID: the numbers behind the report's verdict.</summary>
/// <param name="Arm">The arm compared.</param>
/// <param name="FinalFid">Its FID at each seed's last evaluation, over seeds.</param>
/// <param name="StepsToBaselineFid">Interpolated step at which its mean FID curve first reaches the baseline's final FID; null = not reached.</param>
/// <param name="SpeedUp">The baseline's steps to that FID over this arm's; null when not reached.</param>
public sealed record ArmComparison(string Arm, SeedSummary FinalFid, long FinalStep, double? StepsToBaselineFid, double? SpeedUp)
{
    /// <summary>The arm it is compared with: the run's baseline, or an arm of a sweep with its settings and IAR off.</summary>
    public string Baseline { get; init; } = "";

    /// <summary>
    /// With one seed per arm there is no spread to judge noise by: a final-FID difference counts as clear only beyond
    /// this share of the baseline's FID (sampling alone moves the FID of a few hundred samples by a few percent).
    /// </summary>
    public const double SingleSeedMargin = 0.05;

    /// <summary>
    /// Whether the final-FID difference to <paramref name="baseline"/> is larger than the seed spread (sum of the two
    /// standard deviations), or, when either arm has a single seed, larger than <see cref="SingleSeedMargin"/> of the
    /// baseline's final FID.
    /// </summary>
    public bool BeyondSeedSpread(SeedSummary baseline) =>
        Math.Abs(FinalFid.Mean - baseline.Mean) > (FinalFid.Count < 2 || baseline.Count < 2
            ? SingleSeedMargin * Math.Abs(baseline.Mean)
            : FinalFid.StandardDeviation + baseline.StandardDeviation);

    /// <summary>
    /// Whether the final-FID difference to <paramref name="baseline"/> is larger than the noise floor's margin
    /// (<see cref="IAR.Host.Evaluation.NoiseFloor.Margin"/>: what sampling alone moves an N-sample FID by); true when no
    /// floor with a spread was measured, so that older runs and two-draw floors are judged by the seed spread alone.
    /// </summary>
    public bool BeyondNoiseFloor(SeedSummary baseline, IAR.Host.Evaluation.NoiseFloor? floor) =>
        floor is not { HasSpread: true } || Math.Abs(FinalFid.Mean - baseline.Mean) > floor.Margin;
}

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
