using IAR.Abstractions;
using IAR.Host.Reporting;
using IAR.Tests.Support;

namespace IAR.Tests.Reporting;

/// <summary>
/// Runs as replicates: three synthetic runs of two seeds each, whose baselines fall linearly (0.2 a step) and whose IAR
/// arms fall 0.4, 0.25 and 0.2 a step through every level (speed-ups 2, 1.25 and 1 exactly), ending 7, 3 and 0 lower
/// on average.
/// </summary>
public class RunPoolingTests
{
    static readonly double[] Baseline = [100, 80, 60, 40, 20];

    static Dictionary<(string, int), double[]> Run(double[] iarSeed0, double[] iarSeed1) => new()
    {
        [("baseline", 0)] = Baseline,
        [("baseline", 1)] = Baseline,
        [("iar", 0)] = iarSeed0,
        [("iar", 1)] = iarSeed1,
    };

    static readonly Dictionary<(string, int), double[]>[] Runs =
    [
        Run([100, 60, 20, 15, 12], [100, 60, 20, 15, 14]),   // 2×, Δ −8 and −6
        Run([100, 75, 50, 25, 18], [100, 75, 50, 25, 16]),   // 1.25×, Δ −2 and −4
        Run(Baseline, Baseline),                            // 1×, Δ 0
    ];

    static IReadOnlyList<(string, IReadOnlyList<ArmComparison>)> Comparisons(TempDir root, int count) =>
        Runs.Take(count).Select((fid, i) =>
        {
            var dir = Path.Combine(root.Path, $"run-{i}");
            Directory.CreateDirectory(dir);
            RunReportTests.WriteRun(dir, fid);
            return (dir, RunReport.Comparisons(dir));
        }).ToArray();

    [Fact]
    public void The_runs_are_the_replicates_of_the_pooled_intervals()
    {
        using var root = new TempDir();
        var pooled = RunPooling.Pool(Comparisons(root, 3)).Single();

        Assert.Equal(new[] { 2.0, 1.25, 1.0 }, pooled.PerRun.Select(r => Math.Round(r.Comparison.Speed!.Ratio.Estimate, 9)));
        Assert.Equal(new[] { -7.0, -3.0, 0.0 }, pooled.PerRun.Select(r => Math.Round(r.Comparison.EndQuality.Difference.Estimate, 9)));
        // t(0.975, 2) = 4.303 over the three runs' log ratios and differences, not over the six seed pairs
        double[] logs = [Math.Log(2), Math.Log(1.25), 0];
        double mean = logs.Average(), sd = Math.Sqrt(logs.Sum(l => (l - mean) * (l - mean)) / 2), half = 4.303 * sd / Math.Sqrt(3);
        var speed = pooled.Pooled.Speed!;
        Assert.Equal((Math.Exp(mean), Math.Exp(mean - half), Math.Exp(mean + half), 3), (speed.Ratio.Estimate, speed.Ratio.Low, speed.Ratio.High, speed.Seeds));
        double dMean = -10 / 3.0, dSd = Math.Sqrt((Math.Pow(-7 - dMean, 2) + Math.Pow(-3 - dMean, 2) + Math.Pow(dMean, 2)) / 2), dHalf = 4.303 * dSd / Math.Sqrt(3);
        var end = pooled.Pooled.EndQuality.Difference;
        Assert.Equal(dMean, end.Estimate, 9);
        Assert.Equal(dHalf, end.High - end.Estimate, 9);
        // each run alone: faster (its two seeds agree exactly) but the three runs disagree, so the pool names no difference
        Assert.Equal(SpeedAnswer.Faster, pooled.PerRun[0].Comparison.SpeedAnswer);
        Assert.Equal((SpeedAnswer.NoDifferenceDetected, EndQualityAnswer.NoDifferenceDetected), (pooled.Pooled.SpeedAnswer, pooled.Pooled.EndQualityAnswer));
        // the seed plans stand on the six seed pairs, not on the three runs' means
        double[] pairLogs = [Math.Log(2), Math.Log(2), Math.Log(1.25), Math.Log(1.25), 0, 0];
        double pairMean = pairLogs.Average(), pairSd = Math.Sqrt(pairLogs.Sum(l => (l - pairMean) * (l - pairMean)) / 5);
        Assert.Equal(6, pooled.SpeedPlan!.Pairs);
        Assert.Equal(pairMean, pooled.SpeedPlan.Mean, 9);
        Assert.Equal(pairSd, pooled.SpeedPlan.StandardDeviation, 9);
        double[] differences = [-8, -6, -2, -4, 0, 0];
        Assert.Equal((6, differences.Average()), (pooled.EndQualityPlan!.Pairs, pooled.EndQualityPlan.Mean));
    }

    [Fact]
    public void Runs_that_agree_pool_to_a_named_difference()
    {
        using var root = new TempDir();
        var runs = Comparisons(root, 2);
        var pooled = RunPooling.Pool(runs).Single().Pooled;
        Assert.Equal((SpeedAnswer.NoDifferenceDetected, EndQualityAnswer.NoDifferenceDetected), (pooled.SpeedAnswer, pooled.EndQualityAnswer));   // t(1) = 12.7
        // 2×, 2×, 2×, 1.25×: logs 0.69, 0.69, 0.69, 0.22, mean 0.58 ± 3.182 · 0.235 / 2 = 0.37 above 0
        var again = RunPooling.Pool([runs[0], runs[0] with { Item1 = "copy 1" }, runs[0] with { Item1 = "copy 2" }, runs[1]]).Single().Pooled;
        Assert.StartsWith("faster (", RunReport.Answers(again));
    }

    [Fact]
    public void Fewer_than_two_runs_or_other_arms_are_refused()
    {
        using var root = new TempDir();
        var runs = Comparisons(root, 2);
        Assert.Contains("at least two run folders, got 1", Assert.Throws<ConfigurationException>(() => RunPooling.Pool(runs.Take(1).ToArray())).Message);
        var renamed = (Run: "runs/other", Comparisons: (IReadOnlyList<ArmComparison>)runs[1].Item2.Select(c => c with { Arm = "iar_m16" }).ToArray());
        var error = Assert.Throws<ConfigurationException>(() => RunPooling.Pool([runs[0], renamed])).Message;
        Assert.Contains("runs/other compares 'iar_m16' with 'baseline'", error);
        Assert.Contains("'iar' with 'baseline'", error);
    }

    [Fact]
    public void Iar_pool_prints_each_run_and_the_pooled_verdict_and_refuses_one_folder()
    {
        using var root = new TempDir();
        var runs = Comparisons(root, 3).Select(r => r.Item1).ToArray();
        var pooled = CliRunner.Run(["pool", .. runs]);
        Assert.True(pooled.ExitCode == 0, pooled.ToString());
        Assert.Contains($"{runs[0]}: faster (2.00× [2.00, 2.00]", pooled.Output);
        Assert.Contains("pooled over 3 runs: no speed difference detected (", pooled.Output);
        Assert.Contains("seeds one run needs, taking the runs' seed pairs as the effect (speed-up 1.36×, log sd 0.316 over 6 pairs; final FID Δ -3.33", pooled.Output);
        Assert.Contains("chance one run names speed / end quality: 4 seeds ", pooled.Output);
        var one = CliRunner.Run("pool", runs[0]);
        Assert.Equal(2, one.ExitCode);
        Assert.Contains("at least two run folders, got 1", one.ToString());
        var other = Path.Combine(root.Path, "other");
        Directory.CreateDirectory(other);
        RunReportTests.WriteRun(other, Runs[0], config: RunReportTests.Config.Replace("name: synthetic", "name: other"));
        var mixed = CliRunner.Run("pool", runs[0], other);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains($"{other} is a run of 'other' but {runs[0]} of 'synthetic'", mixed.ToString());
    }
}
