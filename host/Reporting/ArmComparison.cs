namespace IAR.Host.Reporting;

/// <summary>How one arm compares with the baseline on FID: the numbers behind the report's verdict.</summary>
/// <param name="Arm">The arm compared.</param>
/// <param name="FinalFid">Its FID at each seed's last evaluation, over seeds.</param>
/// <param name="StepsToBaselineFid">Interpolated step at which its mean FID curve first reaches the baseline's final FID; null = not reached.</param>
/// <param name="SpeedUp">The baseline's steps to that FID over this arm's; null when not reached.</param>
public sealed record ArmComparison(string Arm, SeedSummary FinalFid, long FinalStep, double? StepsToBaselineFid, double? SpeedUp)
{
    /// <summary>
    /// Whether the final-FID difference to <paramref name="baseline"/> is larger than the seed spread (sum of the two
    /// standard deviations); true when either arm has a single seed, since then there is no spread to compare with.
    /// </summary>
    public bool BeyondSeedSpread(SeedSummary baseline) =>
        FinalFid.Count < 2 || baseline.Count < 2 ||
        Math.Abs(FinalFid.Mean - baseline.Mean) > FinalFid.StandardDeviation + baseline.StandardDeviation;
}
