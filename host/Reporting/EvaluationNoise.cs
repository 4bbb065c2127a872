using IAR.Host.Evaluation;

namespace IAR.Host.Reporting;

/// <summary>
/// The noise of one evaluation's FID when a run has one seed and so no spread to measure it by: the larger of the
/// noise floor's sd (sampling noise of real images, near FID 0) and <see cref="RelativeSd"/> of the FID itself.
/// </summary>
/// <remarks>
/// Why a relative part: the floor measures the sampling noise of an FID near 0, a lower bound for generated samples
/// far from the data. The same quickstart baseline generator sampled with three seeds gave FID 17.93 / 18.34 / 17.29
/// (sd 0.53, 2.9 % of its FID, 13× the floor's; host/Evaluation/README.md), so one evaluation of one seed is given
/// <see cref="DefaultRelativeSd"/> = 3 % of its FID. Training noise (seed, dropout masks, data order) comes on top and is
/// not measured with one seed, so a one-seed verdict names no difference.
/// </remarks>
/// <param name="FloorSd">The noise floor's sd, or 0 when none was measured with a spread.</param>
/// <param name="RelativeSd">The sd of an FID as a share of its value.</param>
public readonly record struct EvaluationNoise(double FloorSd, double RelativeSd)
{
    public const double DefaultRelativeSd = 0.03;

    /// <summary>The sd of an evaluation whose FID is <paramref name="fid"/>.</summary>
    public double At(double fid) => Math.Max(FloorSd, RelativeSd * Math.Abs(fid));

    /// <summary>Two sd of a difference of two independent evaluations at <paramref name="fid"/>: 2·√2·sd.</summary>
    public double MarginAt(double fid) => 2 * Math.Sqrt(2) * At(fid);

    /// <summary>The noise of a run's evaluations at the floor (null or without a spread: the relative part alone).</summary>
    public static EvaluationNoise Of(NoiseFloor? floor) => new(floor is { HasSpread: true } ? floor.StandardDeviation : 0, DefaultRelativeSd);
}
