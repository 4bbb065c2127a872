using IAR.Host.Reporting;

namespace IAR.Tests.Reporting;

public class TrainingSpeedUpTests
{
    [Fact]
    public void Interpolates_the_first_crossing_between_the_evaluations_around_it()
    {
        // 50 → 30 between steps 100 and 200; 40 is half way
        Assert.Equal(150.0, TrainingSpeedUp.StepsToReach([(0, 80), (100, 50), (200, 30), (300, 20)], 40)!.Value, 9);
        // the first crossing counts even if the curve goes back up
        Assert.Equal(125.0, TrainingSpeedUp.StepsToReach([(0, 80), (100, 50), (200, 10), (300, 60), (400, 5)], 40)!.Value, 9);
    }

    [Fact]
    public void An_exact_hit_is_that_step_and_a_curve_starting_below_the_target_gives_its_first_step()
    {
        Assert.Equal(200.0, TrainingSpeedUp.StepsToReach([(100, 50), (200, 40), (300, 30)], 40)!.Value, 9);
        Assert.Equal(100.0, TrainingSpeedUp.StepsToReach([(100, 35), (200, 30)], 40)!.Value, 9);
    }

    [Fact]
    public void A_curve_that_never_reaches_the_target_is_not_reached()
    {
        Assert.Null(TrainingSpeedUp.StepsToReach([(0, 90), (100, 60), (200, 41)], 40));
        Assert.Null(TrainingSpeedUp.StepsToReach([], 40));
    }

    /// <summary>FID 100 − rate·step, floored at 10, evaluated every 100 steps from 0 to 900.</summary>
    static (double, double)[] Linear(double rate) =>
        Enumerable.Range(0, 10).Select(i => (i * 100.0, Math.Max(10, 100 - rate * i * 100))).ToArray();

    [Fact]
    public void Levels_are_spread_evenly_inside_the_baselines_descent()
    {
        // first 100, final 10: k/6 of the drop of 90, k = 1…5
        Assert.Equal(new[] { 85.0, 70, 55, 40, 25 }, TrainingSpeedUp.Levels(Linear(0.1)).Select(l => Math.Round(l, 9)));
        Assert.Empty(TrainingSpeedUp.Levels([(0, 10), (100, 12)]));    // a baseline that does not fall gives no level
        Assert.Empty(TrainingSpeedUp.Levels([(0, 10)]));
    }

    [Fact]
    public void An_arm_twice_as_fast_along_the_whole_descent_has_ratio_two_at_every_level()
    {
        var ratios = TrainingSpeedUp.LevelRatios(Linear(0.1), Linear(0.2), TrainingSpeedUp.Levels(Linear(0.1)));
        Assert.Equal(5, ratios.Count);
        Assert.All(ratios, r => Assert.Equal(2.0, r, 9));
    }

    [Fact]
    public void A_level_the_arm_never_reaches_counts_at_its_last_evaluation()
    {
        // the arm falls 5 per 100 steps to 55 at step 900: levels 85, 70, 55 reached at 300, 600, 900; 40 and 25 never, counted at 900
        var arm = Enumerable.Range(0, 10).Select(i => (i * 100.0, Math.Max(50, 100 - 0.05 * i * 100))).ToArray();
        var ratios = TrainingSpeedUp.LevelRatios(Linear(0.1), arm, [85, 70, 55, 40, 25]);
        Assert.Equal(new[] { 150 / 300.0, 300 / 600.0, 450 / 900.0, 600 / 900.0, 750 / 900.0 }.Select(r => Math.Round(r, 9)), ratios.Select(r => Math.Round(r, 9)));
        var estimate = TrainingSpeedUp.Estimate(Seeds(Linear(0.1)), Seeds(arm), noise: null)!;
        Assert.Equal(2, estimate.LevelsNotReached);
    }

    static Dictionary<int, IReadOnlyList<(double Step, double Value)>> Seeds(params (double, double)[][] curves) =>
        curves.Select((c, i) => (i, c)).ToDictionary(x => x.i, x => (IReadOnlyList<(double, double)>)x.c);

    [Fact]
    public void With_seeds_the_interval_is_a_t_interval_of_the_per_seed_log_ratios()
    {
        // seed 0 twice as fast, seed 1 2.5× as fast: log ratios ln 2 and ln 2.5; t(0.975, 1) = 12.706
        var estimate = TrainingSpeedUp.Estimate(Seeds(Linear(0.1), Linear(0.1)), Seeds(Linear(0.2), Linear(0.25)), noise: new EvaluationNoise(5, 0))!;
        double mean = (Math.Log(2) + Math.Log(2.5)) / 2, half = 12.706 * (Math.Log(2.5) - Math.Log(2)) / Math.Sqrt(2) / Math.Sqrt(2);
        Assert.Equal(Math.Exp(mean), estimate.Ratio.Estimate, 9);
        Assert.Equal(Math.Exp(mean - half), estimate.Ratio.Low, 9);
        Assert.Equal(Math.Exp(mean + half), estimate.Ratio.High, 9);
        Assert.Equal(2, estimate.Seeds);
    }

    [Fact]
    public void With_one_seed_the_interval_spans_every_levels_ratio_and_widens_with_the_evaluation_noise()
    {
        // ratios 2 at the first levels, less further down: the arm stalls at 40 and the baseline catches up
        var arm = Enumerable.Range(0, 10).Select(i => (i * 100.0, Math.Max(35, 100 - 0.2 * i * 100))).ToArray();
        var exact = TrainingSpeedUp.Estimate(Seeds(Linear(0.1)), Seeds(arm), noise: null)!;
        var ratios = TrainingSpeedUp.LevelRatios(Linear(0.1), arm, TrainingSpeedUp.Levels(Linear(0.1)));
        Assert.Equal(ratios.Min(), exact.Ratio.Low, 12);
        Assert.Equal(ratios.Max(), exact.Ratio.High, 12);
        Assert.Equal(Math.Exp(ratios.Average(Math.Log)), exact.Ratio.Estimate, 12);
        var noisy = TrainingSpeedUp.Estimate(Seeds(Linear(0.1)), Seeds(arm), noise: new EvaluationNoise(3, 0))!;
        Assert.Equal(exact.Ratio.Estimate, noisy.Ratio.Estimate, 12);
        Assert.True(noisy.Ratio.Low < exact.Ratio.Low && noisy.Ratio.High > exact.Ratio.High, $"{noisy.Ratio} should be wider than {exact.Ratio}");
        // seeded: the same curves give the same interval (every member; the per-seed dictionary compared by content)
        var again = TrainingSpeedUp.Estimate(Seeds(Linear(0.1)), Seeds(arm), noise: new EvaluationNoise(3, 0))!;
        Assert.Equal(noisy with { SeedRatios = again.SeedRatios }, again);
        Assert.Equal(noisy.SeedRatios, again.SeedRatios);
    }

    [Fact]
    public void A_baseline_that_does_not_fall_gives_no_speed()
    {
        Assert.Null(TrainingSpeedUp.Estimate(Seeds([(0, 10), (100, 12)]), Seeds(Linear(0.2)), noise: new EvaluationNoise(1, 0)));
    }
}
