namespace IAR.Host.Reporting;

/// <summary>
/// How many training steps an arm needs to reach a target FID: the first crossing of its mean FID-vs-step curve,
/// linearly interpolated between the two evaluations that bracket it.
/// </summary>
public static class TrainingSpeedUp
{
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

    /// <summary>Baseline steps over arm steps to the same target; null when the arm does not reach it.</summary>
    public static double? Factor(double? baselineSteps, double? armSteps) =>
        baselineSteps is double b && armSteps is double a && a > 0 ? b / a : null;
}
