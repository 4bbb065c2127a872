namespace IAR.Host.Reporting;

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
