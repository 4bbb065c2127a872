namespace IAR.Host.Reporting;

/// <summary>
/// How many seeds one run needs to name an effect already measured: from seed pairs of finished runs (each pair one
/// draw of an arm's log speed-up or final-FID difference against its baseline), the chance that a run of n seeds names
/// the difference in the direction of the pairs' mean, by the rule its report applies — a t interval over its n pairs
/// that excludes "none" (<see cref="ConfidenceInterval.OfMean"/>, with the end-quality interval's floor).
/// </summary>
/// <remarks>
/// Simulated: n pairs drawn from a normal with the measured pairs' mean and sd, <see cref="Draws"/> times, with a fixed
/// random seed (the same pairs give the same chances). A planning figure, not a test: it takes the measured mean as
/// the true effect, so it is as uncertain as that mean. It pools the pairs of several runs as if they were one run's,
/// which holds when the runs' means vary as their seeds predict: with the quickstart's shipped tokenizer they did
/// (README, "six runs"); runs that each train their own tokenizer vary more, and then the chances are too high.
/// </remarks>
public static class SeedPlanning
{
    /// <summary>The seed counts a plan gives the chance for: the quickstart's four and its multiples.</summary>
    public static readonly int[] SeedCounts = [4, 8, 12, 16];

    /// <summary>Simulated runs per seed count: the chance's standard error is at most 0.35 %.</summary>
    public const int Draws = 20_000;

    /// <summary>Fewest pairs a plan is made from: a spread from two is too unsure to plan with.</summary>
    public const int MinimumPairs = 4;

    const int RandomSeed = 20_261_207;

    /// <summary>The plan for <paramref name="pairs"/>; null with fewer than <see cref="MinimumPairs"/> pairs or no spread.</summary>
    /// <param name="floorMargin">The noise floor's margin that raises an end-quality interval to at least margin/√n (0 for speed).</param>
    public static SeedPlan? Of(IReadOnlyList<double> pairs, double floorMargin = 0)
    {
        if (pairs.Count < MinimumPairs) return null;
        double mean = pairs.Average();
        double sd = Math.Sqrt(pairs.Sum(p => (p - mean) * (p - mean)) / (pairs.Count - 1));
        if (!(sd > 0)) return null;
        return new SeedPlan(pairs.Count, mean, sd, SeedCounts.Select(n => (n, ChanceToName(mean, sd, n, floorMargin))).ToArray());
    }

    /// <summary>
    /// The chance that a t interval over <paramref name="seeds"/> draws of N(<paramref name="mean"/>, <paramref name="sd"/>)
    /// lies wholly on the side of 0 that <paramref name="mean"/> is on (mean 0: above 0, so the chance is the interval's 2.5 %).
    /// </summary>
    public static double ChanceToName(double mean, double sd, int seeds, double floorMargin = 0, int draws = Draws)
    {
        if (seeds < 2) throw new ArgumentOutOfRangeException(nameof(seeds), seeds, "a t interval needs at least two seeds");
        var random = new Random(RandomSeed);
        var values = new double[seeds];
        int named = 0;
        for (int draw = 0; draw < draws; draw++)
        {
            for (int i = 0; i < seeds; i++) values[i] = mean + sd * TrainingSpeedUp.Gaussian(random);
            var interval = ConfidenceInterval.OfMean(values, floorMargin / Math.Sqrt(seeds));
            if (mean >= 0 ? interval.Low > 0 : interval.High < 0) named++;
        }
        return named / (double)draws;
    }
}

/// <summary>What measured seed pairs say a run needs.</summary>
/// <param name="Pairs">Seed pairs the plan stands on.</param>
/// <param name="Mean">Their mean (log speed-up, or final-FID difference).</param>
/// <param name="StandardDeviation">Their sample standard deviation.</param>
/// <param name="Chances">For each seed count of <see cref="SeedPlanning.SeedCounts"/>, the chance a run of that many seeds names the difference.</param>
public sealed record SeedPlan(int Pairs, double Mean, double StandardDeviation, IReadOnlyList<(int Seeds, double Chance)> Chances);
