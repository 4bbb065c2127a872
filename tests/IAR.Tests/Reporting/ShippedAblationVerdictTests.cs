using IAR.Host.Experiments;
using IAR.Host.Reporting;
using IAR.Host.Runs;
using IAR.Tests.Support;

namespace IAR.Tests.Reporting;

/// <summary>
/// The shipped ablations (LlamaGen next-token and VAR next-scale alike) give the two-part verdict: each file's own arms,
/// seeds and evaluation schedule, with FID curves made up so that every arm is ahead of the baseline, must yield a speed
/// part (which needs evaluations along the way, not only at the end) and an end-quality part for every arm, each
/// compared with an arm without IAR.
/// </summary>
public class ShippedAblationVerdictTests
{
    [Theory]
    [InlineData("var-ablation.yaml")]
    [InlineData("llamagen-study.yaml")]
    [InlineData("codebook-size-study.yaml")]
    [InlineData("fashion-mnist-ablation.yaml")]
    [InlineData("quickstart.yaml")]
    public void Every_arm_gets_a_speed_and_an_end_quality_verdict_against_the_baseline(string file)
    {
        var experiment = ExperimentLoader.Load(Path.Combine(RepoPaths.Experiments, file));
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, RunLayout.ConfigFile), experiment.ResolvedYaml);
        var log = new MetricsLog(Path.Combine(dir.Path, RunLayout.MetricsFile), tensorBoard: false);
        foreach (var arm in experiment.Arms)
            foreach (var seed in arm.Spec.EffectiveSeeds)
                foreach (var step in EvaluatedSteps(arm.Spec.Training.Steps, arm.Spec.Evaluation.Every))
                {
                    // the baseline falls as 100 / (1 + 10·t), t the fraction of training; every other arm is 30 % lower
                    double fid = 100 / (1 + 10.0 * step / arm.Spec.Training.Steps) * (arm.Spec.Iar.Enabled ? 0.7 + 0.01 * seed : 1 + 0.01 * seed);
                    log.Append(new Dictionary<string, object?> { ["stage"] = "eval", ["arm"] = arm.Name, ["seed"] = seed, ["step"] = step, ["fid"] = fid });
                }

        var outcome = RunReport.Build(dir.Path);

        // every arm with IAR on (the method and its controls), each against an arm with IAR off: the run's baseline, or
        // the arm of the same settings without IAR (llamagen-study's official-iar against official-baseline)
        var withIar = experiment.Arms.Where(a => a.Spec.Iar.Enabled).Select(a => a.Name).ToArray();
        var withoutIar = experiment.Arms.Where(a => !a.Spec.Iar.Enabled).Select(a => a.Name).ToHashSet();
        var judged = outcome.Comparisons.Where(c => withIar.Contains(c.Arm)).ToArray();
        Assert.Equal(withIar, judged.Select(c => c.Arm));
        Assert.All(judged, c =>
        {
            Assert.Contains(c.Baseline, withoutIar);
            Assert.Equal((SpeedAnswer.Faster, EndQualityAnswer.Better), (c.SpeedAnswer, c.EndQualityAnswer));
        });
        Assert.Equal(withIar.Length, outcome.Verdict.Split("faster (").Length - 1);
        Assert.Equal(withIar.Length, outcome.Verdict.Split("better end quality").Length - 1);
    }

    /// <summary>The steps the trainer evaluates at: every <paramref name="every"/> steps (0: none) and the last one.</summary>
    static IEnumerable<long> EvaluatedSteps(long steps, int every) =>
        Enumerable.Range(1, (int)steps).Select(s => (long)s).Where(s => (every > 0 && s % every == 0) || s == steps);
}
