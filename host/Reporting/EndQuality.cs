using IAR.Host.Evaluation;

namespace IAR.Host.Reporting;

/// <summary>
/// The final-FID difference of an arm against its baseline (arm − baseline: negative is better), paired by seed, with a
/// 95 % interval that covers both noises: the seed spread (training randomness) and the FID's sampling noise (the noise
/// floor, measured on real held-out images).
/// </summary>
/// <remarks>
/// The evaluation saves FIDs, not the generated samples' features, so the sampling noise is the noise floor's, not a
/// bootstrap over samples. With seeds: a t interval over the per-seed differences, at least as wide as the floor's
/// noise of a mean of n differences (2·√2·sd/√n), which a handful of seeds can underestimate. With one seed:
/// the floor's margin 2·√2·sd (no training noise is measured: more seeds give a firmer answer); without a floor with a
/// spread, <see cref="SingleSeedMargin"/> of the baseline's FID.
/// </remarks>
public static class EndQuality
{
    /// <summary>Half-width of a one-seed interval without a measured floor, as a share of the baseline's final FID.</summary>
    public const double SingleSeedMargin = 0.05;

    /// <param name="baseline">Each seed's final FID.</param>
    /// <param name="arm">Each seed's final FID.</param>
    /// <param name="floor">The noise floor at the arms' sample count, or null.</param>
    public static EndQualityEstimate Estimate(IReadOnlyDictionary<int, double> baseline, IReadOnlyDictionary<int, double> arm, NoiseFloor? floor)
    {
        if (baseline.Count == 0 || arm.Count == 0) throw new ArgumentException("Both arms need a final FID.");
        var seeds = baseline.Keys.Intersect(arm.Keys).Order().ToArray();
        // Without seeds in common, the seed means stand as one pair.
        var differences = seeds.Length > 0
            ? seeds.Select(s => arm[s] - baseline[s]).ToArray()
            : [arm.Values.Average() - baseline.Values.Average()];
        double? floorMargin = floor is { HasSpread: true } ? floor.Margin : null;
        if (differences.Length >= 2)
            return new EndQualityEstimate(ConfidenceInterval.OfMean(differences, (floorMargin ?? 0) / Math.Sqrt(differences.Length)),
                differences.Length, floorMargin,
                $"t interval over {differences.Length} seeds' differences" + (floorMargin is null ? "" : ", at least the noise floor's margin / √n"));
        double d = differences[0];
        double half = floorMargin ?? SingleSeedMargin * Math.Abs(baseline.Values.Average());
        return new EndQualityEstimate(new ConfidenceInterval(d, d - half, d + half), 1, floorMargin,
            floorMargin is null
                ? $"one seed, no noise floor with a spread: ±{SingleSeedMargin:P0} of the baseline's FID"
                : "one seed: ± the noise floor's margin (2√2 sd); the seed spread is not measured");
    }
}

/// <summary>Final FID of an arm minus its baseline's (negative = better), with its 95 % interval.</summary>
/// <param name="FloorMargin">The noise floor's margin (2√2 sd) when measured with a spread.</param>
public sealed record EndQualityEstimate(ConfidenceInterval Difference, int Seeds, double? FloorMargin, string Basis);
