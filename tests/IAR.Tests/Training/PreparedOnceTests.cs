using IAR.Tests.Support;

namespace IAR.Tests.Training;

/// <summary>
/// Prepare's measured products are computed once per run: a <c>--job</c> after <c>--prepare</c> (what a Slurm task or a
/// local worker does) loads the evaluation reference and the tokenizer's quality from the run folder, and ends with the
/// metrics of a run that computed them in the same process.
/// </summary>
public class PreparedOnceTests
{
    [Fact]
    public void A_job_after_prepare_loads_the_evaluation_reference_and_matches_a_run_that_computed_it()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: "arms:\n  - name: baseline",
            evaluation: "{metrics: [fid], num_samples: 130, batch_size: 65, every: 20, feature_extractor_steps: 5}");
        var together = experiment.Run("together");
        var one = CliRunner.Run(experiment.Arguments(together));
        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.Contains("evaluation reference: computing it (not cached yet)", one.Output);

        var split = experiment.Run("split");
        var prepare = CliRunner.Run([.. experiment.Arguments(split), "--prepare"]);
        Assert.True(prepare.ExitCode == 0, prepare.ToString());
        Assert.Contains("evaluation reference: computing it (not cached yet)", prepare.Output);
        var job = CliRunner.Run([.. experiment.Arguments(split), "--job", "baseline/1"]);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("evaluation reference: loaded from", job.Output);
        Assert.DoesNotContain("evaluation reference: computing it", job.Output);
        Assert.Contains("(loaded from tokenizer/quality.json)", job.Output);

        var fid = KillResumeTests.Metrics(together).Where(l => l.Contains("fid=")).ToList();
        Assert.NotEmpty(fid);
        Assert.Equal(fid, KillResumeTests.Metrics(split).Where(l => l.Contains("fid=")).ToList());
    }
}
