namespace IAR.Host.Reporting;

/// <summary>A two-sided 95 % interval around an estimate.</summary>
public readonly record struct ConfidenceInterval(double Estimate, double Low, double High)
{
    public bool Excludes(double value) => value < Low || value > High;

    /// <summary>
    /// The Student-t interval of the mean of <paramref name="values"/> (at least two): mean ± t(0.975, n − 1)·sd/√n, with
    /// the half-width raised to at least <paramref name="minimumHalfWidth"/> (a noise known from elsewhere, which a
    /// handful of values can underestimate).
    /// </summary>
    public static ConfidenceInterval OfMean(IReadOnlyList<double> values, double minimumHalfWidth = 0)
    {
        if (values.Count < 2) throw new ArgumentException("A t interval needs at least two values.", nameof(values));
        double mean = values.Average();
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        double half = Math.Max(StudentT975(values.Count - 1) * sd / Math.Sqrt(values.Count), minimumHalfWidth);
        return new ConfidenceInterval(mean, mean - half, mean + half);
    }

    /// <summary>The 2.5 % and 97.5 % percentiles of <paramref name="draws"/> (linear interpolation between order statistics).</summary>
    public static ConfidenceInterval OfPercentiles(double estimate, IReadOnlyCollection<double> draws)
    {
        if (draws.Count == 0) throw new ArgumentException("Percentiles need at least one draw.", nameof(draws));
        var sorted = draws.Order().ToArray();
        return new ConfidenceInterval(estimate, Percentile(sorted, 0.025), Percentile(sorted, 0.975));
    }

    static double Percentile(double[] sorted, double p)
    {
        double position = p * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(sorted.Length - 1, below + 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    // t(0.975, df) for df = 1 … 30; beyond, the Cornish–Fisher expansion around the normal quantile (error < 1e-3).
    static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>The 97.5 % quantile of Student's t with <paramref name="df"/> degrees of freedom.</summary>
    public static double StudentT975(int df)
    {
        if (df < 1) throw new ArgumentOutOfRangeException(nameof(df), df, "degrees of freedom ≥ 1");
        if (df <= T975.Length) return T975[df - 1];
        const double z = 1.959964;
        return z + (z * z * z + z) / (4.0 * df) + (5 * Math.Pow(z, 5) + 16 * z * z * z + 3 * z) / (96.0 * df * df);
    }
}
