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
/// 2·√2 × the noise of one evaluation at the baseline's final FID (<see cref="EvaluationNoise"/>: the larger of the
/// floor's sd and 3 % of the FID); no training noise is measured, and more seeds give a firmer answer.
/// </remarks>
public static class EndQuality
{
    /// <param name="baseline">Each seed's final FID.</param>
    /// <param name="arm">Each seed's final FID.</param>
    /// <param name="floor">The noise floor at the arms' sample count, or null.</param>
    public static EndQualityEstimate Estimate(IReadOnlyDictionary<int, double> baseline, IReadOnlyDictionary<int, double> arm, NoiseFloor? floor)
    {
        if (baseline.Count == 0 || arm.Count == 0) throw new ArgumentException("Both arms need a final FID.");
        var seeds = baseline.Keys.Intersect(arm.Keys).Order().ToArray();
        // Without seeds in common, the seed means stand as one pair.
        var seedDifferences = seeds.ToDictionary(s => s, s => arm[s] - baseline[s]);
        var differences = seeds.Length > 0
            ? seeds.Select(s => seedDifferences[s]).ToArray()
            : [arm.Values.Average() - baseline.Values.Average()];
        double? floorMargin = floor is { HasSpread: true } ? floor.Margin : null;
        if (differences.Length >= 2)
            return new EndQualityEstimate(ConfidenceInterval.OfMean(differences, (floorMargin ?? 0) / Math.Sqrt(differences.Length)),
                differences.Length, floorMargin,
                $"t interval over {differences.Length} seeds' differences" + (floorMargin is null ? "" : ", at least the noise floor's margin / √n"), seedDifferences);
        double d = differences[0];
        var noise = EvaluationNoise.Of(floor);
        double half = noise.MarginAt(baseline.Values.Average());
        return new EndQualityEstimate(new ConfidenceInterval(d, d - half, d + half), 1, floorMargin,
            $"one seed: ± 2√2 × the noise of one evaluation (the larger of the floor's sd and {noise.RelativeSd:P0} of the baseline's FID); the seed spread is not measured",
            seedDifferences);
    }
}

/// <summary>Final FID of an arm minus its baseline's (negative = better), with its 95 % interval.</summary>
/// <param name="FloorMargin">The noise floor's margin (2√2 sd) when measured with a spread.</param>
/// <param name="SeedDifferences">Each seed pair's difference, by seed; empty when the arms have no seed in common (their means were compared).</param>
public sealed record EndQualityEstimate(ConfidenceInterval Difference, int Seeds, double? FloorMargin, string Basis, IReadOnlyDictionary<int, double> SeedDifferences);
