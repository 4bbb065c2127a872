using IAR.Host.Reporting;

namespace IAR.Tests.Reporting;

/// <summary>
/// The seed plan's chances are those of the report's own t interval: 2.5 % on one side with no effect, the noncentral
/// t's power with many seeds, the end-quality floor's minimum width honoured, and pairs from too few seeds refused.
/// </summary>
public class SeedPlanningTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    public void With_no_effect_a_run_names_a_difference_with_the_intervals_two_and_a_half_percent(int seeds)
    {
        // 20,000 draws: the chance's standard error is 0.11 %; a z interval in place of t would give ≈ 7 % at 4 seeds
        Assert.InRange(SeedPlanning.ChanceToName(0, 1, seeds), 0.020, 0.030);
    }

    [Fact]
    public void With_many_seeds_the_chance_is_the_noncentral_t_power()
    {
        // mean 0.5, sd 1, 64 seeds: noncentrality 4, t(0.975, 63) = 1.998; P(T' > 1.998) ≈ Φ((4 − 1.998) / √(1 + 1.998²/126)) = 0.977
        Assert.InRange(SeedPlanning.ChanceToName(0.5, 1, 64), 0.967, 0.987);
        double[] chances = [.. new[] { 4, 8, 12, 16 }.Select(n => SeedPlanning.ChanceToName(0.5, 1, n))];
        Assert.Equal(chances.Order(), chances);
        // 16 seeds: noncentrality 2, t(0.975, 15) = 2.131: Φ((2 − 2.131) / √(1 + 2.131²/30)) = 0.45
        Assert.InRange(chances[3], 0.43, 0.49);
    }

    [Fact]
    public void The_end_quality_floor_keeps_an_interval_at_least_margin_over_root_n_wide()
    {
        // pairs that all equal −1: the t part of the interval is 0, so only the floor (margin/√4) decides
        Assert.Equal(0, SeedPlanning.ChanceToName(-1, 1e-9, 4, floorMargin: 2.5));
        Assert.Equal(1, SeedPlanning.ChanceToName(-1, 1e-9, 4, floorMargin: 1.5));
    }

    [Fact]
    public void A_plan_needs_four_pairs_with_a_spread()
    {
        Assert.Null(SeedPlanning.Of([0.1, 0.2, 0.3]));
        Assert.Null(SeedPlanning.Of([0.1, 0.1, 0.1, 0.1]));
        var plan = SeedPlanning.Of([0.1, 0.2, 0.3, 0.4])!;
        Assert.Equal((4, 0.25, Math.Sqrt(0.05 / 3)), (plan.Pairs, plan.Mean, plan.StandardDeviation));
        Assert.Equal(SeedPlanning.SeedCounts, plan.Chances.Select(c => c.Seeds));
    }
}
