using IAR.Host.Runs;
using IAR.Tests.Support;

namespace IAR.Tests.Training;

/// <summary>
/// A run folder shared by processes: local workers, single <c>--job</c> processes started together, and a job stopped
/// by SIGTERM and resumed. In every case the weights must equal those of one uninterrupted sequential run.
/// </summary>
public class SharedRunFolderTests
{
    // 2 arms × 2 seeds of the tiny experiment; token metrics only, so no feature extractor is trained.
    internal const string TwoByTwo = """
        seeds: [1, 2]
        iar: {cluster_size: 4}
        arms:
          - name: baseline
          - name: iar
            iar: {enabled: true}
        """;

    static readonly string[] Jobs = ["arms/baseline/seed-1", "arms/baseline/seed-2", "arms/iar/seed-1", "arms/iar/seed-2"];

    internal static void AssertSameWeights(string expectedRun, string actualRun)
    {
        foreach (var job in Jobs)
        {
            var file = Path.Combine(job, "generator.safetensors");
            Assert.True(File.ReadAllBytes(Path.Combine(expectedRun, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actualRun, file))),
                $"{file} differs from the sequential run's");
        }
    }

    /// <summary>The report's tables (its other lines name the run folder).</summary>
    internal static string[] Tables(string run) => File.ReadAllLines(Path.Combine(run, "report.md")).Where(l => l.StartsWith('|')).ToArray();

    [Fact]
    public void Two_workers_give_the_weights_and_report_tables_of_a_sequential_run()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: TwoByTwo);
        var sequential = experiment.Run("sequential");
        var one = CliRunner.Run(experiment.Arguments(sequential));
        Assert.True(one.ExitCode == 0, one.ToString());

        var parallel = experiment.Run("parallel");
        var two = CliRunner.Run([.. experiment.Arguments(parallel), "--workers", "2"]);
        Assert.True(two.ExitCode == 0, two.ToString());
        Assert.Contains("[worker 0]", two.Output);
        Assert.Contains("[worker 1]", two.Output);

        AssertSameWeights(sequential, parallel);
        Assert.NotEmpty(Tables(sequential));
        Assert.Equal(Tables(sequential), Tables(parallel));
        Assert.Equal(KillResumeTests.Metrics(sequential), KillResumeTests.Metrics(parallel));

        var status = CliRunner.Run("status", parallel);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("4 jobs: 4 done", status.Output);
    }

    [Fact]
    public void Two_single_job_processes_started_together_train_the_tokenizer_once()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: TwoByTwo);
        var run = experiment.Run("run");
        using (var a = new IarProcess([.. experiment.Arguments(run), "--job", "baseline/1"]))
        using (var b = new IarProcess([.. experiment.Arguments(run), "--job", "iar/2"]))
        {
            Assert.True(a.WaitForExit() == 0, a.Output);
            Assert.True(b.WaitForExit() == 0, b.Output);
            // One process trained the tokenizer; the other waited on the prepare lock and loaded it.
            var trained = new[] { a.Output, b.Output }.Count(o => o.Contains("tokenizer FixturePlugin/tiny step 20/20"));
            Assert.Equal(1, trained);
        }
        Assert.False(File.Exists(Path.Combine(run, "report.md")), "a single --job built the report");

        var status = CliRunner.Run("status", run);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Matches(@"baseline/1\s+done", status.Output);
        Assert.Matches(@"iar/2\s+done", status.Output);
        Assert.Matches(@"baseline/2\s+pending", status.Output);

        var report = CliRunner.Run("report", run);
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Contains("| iar |", File.ReadAllText(Path.Combine(run, "report.md")));
    }

    /// <summary>One job of 400 steps whose only checkpoint before the end is the one a signal makes.</summary>
    internal static readonly string[] LongJob = ["--arms", "iar", "training.steps=400", "training.checkpoint_every=1000", "evaluation.every=200"];

    [Fact]
    public void A_job_stopped_by_SIGTERM_checkpoints_its_step_exits_143_and_resumes_to_the_same_weights()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: TwoByTwo);
        var clean = experiment.Run("clean");
        var r = CliRunner.Run([.. experiment.Arguments(clean), .. LongJob]);
        Assert.True(r.ExitCode == 0, r.ToString());

        var stopped = experiment.Run("stopped");
        var job = Path.Combine(stopped, "arms", "iar", "seed-1");
        var metrics = Path.Combine(job, "metrics.jsonl");
        using (var p = new IarProcess([.. experiment.Arguments(stopped), .. LongJob]))
        {
            p.WaitUntil(() => File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"stage\":\"generator\""), "a logged step of iar/1");
            p.SignalWhileStopped(15, () => Assert.False(File.Exists(Path.Combine(job, "generator.safetensors")), "the job finished before the signal"));
            Assert.Equal(143, p.WaitForExit());
            Assert.Contains("terminated (SIGTERM)", p.Output);
        }
        Assert.Contains("\"state\": \"interrupted\"", File.ReadAllText(Path.Combine(job, "status.json")));
        var checkpoint = Assert.Single(Directory.GetFiles(Path.Combine(job, "checkpoints"), "step-*.safetensors"));
        Assert.DoesNotContain("step-00000400", checkpoint);

        var resumed = CliRunner.Run([.. experiment.Arguments(stopped), .. LongJob]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("resuming from step", resumed.Output);
        var weights = Path.Combine("arms", "iar", "seed-1", "generator.safetensors");
        Assert.True(File.ReadAllBytes(Path.Combine(clean, weights)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(stopped, weights))),
            "the resumed job's weights differ from the uninterrupted one's");
        Assert.Equal(KillResumeTests.Metrics(clean), KillResumeTests.Metrics(stopped));
    }
}

/// <summary><c>training.gradient_accumulation</c>: K micro-batches per step give what one batch gives, up to floating-point order.</summary>
public class GradientAccumulationTests
{
    [Fact]
    public void Two_micro_batches_per_step_track_one_batch_at_every_step_and_end_with_the_same_weights()
    {
        using var experiment = new TinyExperiment(steps: 40);
        string[] everyStep = ["training.log_every=1"];
        var whole = experiment.Run("whole");
        var a = CliRunner.Run([.. experiment.Arguments(whole), .. everyStep]);
        Assert.True(a.ExitCode == 0, a.ToString());
        var split = experiment.Run("split");
        var b = CliRunner.Run([.. experiment.Arguments(split), .. everyStep, "training.gradient_accumulation=2"]);
        Assert.True(b.ExitCode == 0, b.ToString());

        static double[] Losses(string run) => IAR.Host.Runs.MetricsLog.ReadRun(run)
            .Where(r => r.GetProperty("stage").GetString() == "generator").Select(r => r.GetProperty("loss").GetDouble()).ToArray();
        var (one, two) = (Losses(whole), Losses(split));
        Assert.Equal(40, one.Length);
        Assert.Equal(one.Length, two.Length);
        for (int i = 0; i < one.Length; i++)
            Assert.True(Math.Abs(one[i] - two[i]) <= 1e-5 * Math.Abs(one[i]), $"step {i + 1}: loss {one[i]} with one batch, {two[i]} with two micro-batches");

        var weights = Path.Combine("arms", "baseline", "seed-1", "generator.safetensors");
        var x = IAR.Host.Serialization.SafeTensorsFile.Open(Path.Combine(whole, weights)).LoadAll();
        var y = IAR.Host.Serialization.SafeTensorsFile.Open(Path.Combine(split, weights)).LoadAll();
        foreach (var (key, tensor) in x) IAR.ContractTests.TensorAssert.Close(tensor, y[key], 1e-5, 1e-5, key);
        Assert.Contains("gradient_accumulation = 3 is invalid", CliRunner.Run([.. experiment.Arguments(experiment.Run("bad")), "training.gradient_accumulation=3"]).Error);
    }
}
