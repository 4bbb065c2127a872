using IAR.Host.Runs;
using System.Diagnostics;
using System.Globalization;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Training;

/// <summary>
/// Data-parallel training with <c>mpirun -np 2</c>: the same global batch split over two ranks must train what one
/// process trains, and a rank killed mid-run must stop the other, then resume to the weights of an uninterrupted run.
/// </summary>
public class DataParallelTests
{
    // Root in CI; two ranks on however many cores the machine has; both on this machine.
    internal static readonly string[] MpiRun = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2"];

    const string Weights = "arms/baseline/seed-1/generator.safetensors";

    static double[] Losses(string run) => MetricsLog.ReadRun(run)
        .Where(r => r.GetProperty("stage").GetString() == "generator").Select(r => r.GetProperty("loss").GetDouble()).ToArray();

    static void AssertTrack(string expected, string actual, string what)
    {
        var (a, b) = (Losses(expected), Losses(actual));
        Assert.NotEmpty(a);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 * Math.Abs(a[i]), $"logged step {i + 1}: loss {a[i]} in one process, {b[i]} {what}");
        var x = SafeTensorsFile.Open(Path.Combine(expected, Weights)).LoadAll();
        var y = SafeTensorsFile.Open(Path.Combine(actual, Weights)).LoadAll();
        Assert.Equal(x.Keys.Order(), y.Keys.Order());
        foreach (var (key, tensor) in x) IAR.ContractTests.TensorAssert.Close(tensor, y[key], 1e-5, 1e-5, $"{key} ({what})");
    }

    static string RunTwoRanks(TinyExperiment experiment, string name, params string[] more)
    {
        var run = experiment.Run(name);
        using var p = new IarProcess(experiment.Arguments(run, more), MpiRun);
        Assert.True(p.WaitForExit() == 0, p.Output);
        return run;
    }

    [MpiFact]
    public void Two_ranks_track_one_process_at_every_step_and_end_with_the_same_weights()
    {
        using var experiment = new TinyExperiment(steps: 40);
        string[] everyStep = ["training.log_every=1"];
        var single = experiment.Run("single");
        var one = CliRunner.Run(experiment.Arguments(single, everyStep));
        Assert.True(one.ExitCode == 0, one.ToString());

        var two = RunTwoRanks(experiment, "two", everyStep);
        Assert.Equal(40, Losses(single).Length);
        AssertTrack(single, two, "with two ranks");
        // Rank 1 logs beside rank 0 and writes nothing else: one metrics line per step, its own log file.
        Assert.Contains("data parallel: rank 0 of 2", File.ReadAllText(Path.Combine(two, "run.log")));
        var rank1 = File.ReadAllText(Path.Combine(two, "run.rank-1.log"));
        Assert.Contains("data parallel: rank 1 of 2", rank1);
        Assert.Contains("trains samples 8–15 of every global batch of 16 (1 × 8)", rank1);
        // Every step all-reduces gradients and losses between two processes: time spent, but less than the step took
        // (wall_s advances by the step's whole time, collectives included; one step per record).
        var records = MetricsLog.ReadRun(two).Where(r => r.GetProperty("stage").GetString() == "generator").ToArray();
        Assert.Equal(40, records.Length);
        for (int i = 1; i < records.Length; i++)
        {
            double collective = records[i].GetProperty("collective_ms").GetDouble();
            double stepMs = 1000 * (records[i].GetProperty("wall_s").GetDouble() - records[i - 1].GetProperty("wall_s").GetDouble());
            Assert.True(collective > 0 && collective <= stepMs + 1, $"step {i + 1}: collective_ms {collective} outside (0, {stepMs + 1}] ms, the step's time");
        }
        Assert.DoesNotContain(MetricsLog.ReadRun(single), r => r.TryGetProperty("collective_ms", out _));   // one process: no collectives

        // Two ranks × two micro-batches of 4 each.
        var four = RunTwoRanks(experiment, "two-by-two", [.. everyStep, "training.gradient_accumulation=2"]);
        AssertTrack(single, four, "with two ranks of two micro-batches");
    }

    [MpiFact]
    public void With_dropout_two_ranks_and_two_micro_batches_track_one_process_at_every_step()
    {
        // LlamaGen's GPT-T with token, residual and FFN dropout 0.1: its masks are keyed by (step, global sample), so
        // every split of the batch draws the masks of one process. Keyed per process, weights drift by 1e-2 in 60 steps.
        using var experiment = new TinyExperiment(steps: 30);
        // fp32: the equality under test is the batch split's; bf16 (what auto picks on a bf16 CPU) rounds each split's
        // sums on its own (4.6e-5 apart by step 15).
        string[] gpt =
        [
            "training.log_every=1", "training.lr=0.001", "training.precision=fp32", "generator.plugin=LlamaGen", "generator.preset=GPT-T",
            "generator.options.token_dropout_p=0.1", "generator.options.resid_dropout_p=0.1", "generator.options.ffn_dropout_p=0.1",
        ];
        var single = experiment.Run("single");
        var one = CliRunner.Run(experiment.Arguments(single, gpt));
        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.Equal(30, Losses(single).Length);

        var accumulated = experiment.Run("accumulated");
        var parts = CliRunner.Run(experiment.Arguments(accumulated, [.. gpt, "training.gradient_accumulation=2"]));
        Assert.True(parts.ExitCode == 0, parts.ToString());
        AssertTrack(single, accumulated, "with two micro-batches");
        AssertTrack(single, RunTwoRanks(experiment, "two", gpt), "with two ranks");
    }

    [MpiFact]
    public void A_batch_that_does_not_split_over_the_ranks_is_refused_before_anything_runs()
    {
        using var experiment = new TinyExperiment(steps: 20);
        var run = experiment.Run("odd");
        using var p = new IarProcess(experiment.Arguments(run, "training.batch_size=15"), MpiRun);
        Assert.NotEqual(0, p.WaitForExit());
        Assert.Contains("training.batch_size = 15 does not split into 2 ranks × training.gradient_accumulation = 1; a multiple of 2 is accepted", p.Output);
        Assert.False(Directory.Exists(run), "a run folder was made");
    }

    [MpiFact]
    public void One_rank_forced_through_MPI_trains_the_weights_of_one_process_bit_for_bit()
    {
        using var experiment = new TinyExperiment(steps: 40);
        var single = experiment.Run("single");
        var one = CliRunner.Run(experiment.Arguments(single));
        Assert.True(one.ExitCode == 0, one.ToString());
        var forced = experiment.Run("forced");
        using (var p = new IarProcess(experiment.Arguments(forced), environment: new Dictionary<string, string> { ["IAR_PROCESS_GROUP"] = "mpi" }))
        {
            Assert.True(p.WaitForExit() == 0, p.Output);
            Assert.Contains("data parallel: rank 0 of 1, MPI", p.Output);
        }
        Assert.True(File.ReadAllBytes(Path.Combine(single, Weights)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(forced, Weights))),
            "one rank through the collectives trained other weights than one process");
    }

    [MpiFact]
    public void A_killed_rank_stops_the_other_and_the_job_resumes_to_the_weights_of_an_uninterrupted_run()
    {
        using var experiment = new TinyExperiment(steps: 20);
        string[] job = ["training.steps=300", "training.checkpoint_every=30", "evaluation.every=100"];
        var clean = RunTwoRanks(experiment, "clean", job);

        var killed = experiment.Run("killed");
        var checkpoints = Path.Combine(killed, "arms", "baseline", "seed-1", "checkpoints");
        using (var p = new IarProcess(experiment.Arguments(killed, job), MpiRun))
        {
            p.WaitUntil(() => Directory.Exists(checkpoints) && Directory.GetFiles(checkpoints, "step-*.safetensors").Length > 0, "a checkpoint");
            var rank1 = RankProcess(p.Id, 1);
            Assert.True(rank1 > 0, "no process of rank 1 under mpirun:\n" + p.Output);
            var clock = Stopwatch.StartNew();
            Process.GetProcessById(rank1).Kill();   // SIGKILL: rank 1 is gone without a word
            int code = p.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the other rank ran on for {clock.Elapsed}:\n{p.Output}");
            Assert.NotEqual(0, code);
            Assert.Matches(@"rank 1\b", p.Output);
        }
        Assert.False(File.Exists(Path.Combine(killed, Weights)), "the job finished before the kill");

        var resumed = experiment.Run("killed");
        using (var p = new IarProcess(experiment.Arguments(resumed, job), MpiRun))
        {
            Assert.True(p.WaitForExit() == 0, p.Output);
            Assert.Contains("resuming from step", p.Output);
        }
        Assert.True(File.ReadAllBytes(Path.Combine(clean, Weights)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(resumed, Weights))),
            "the resumed two-rank job's weights differ from the uninterrupted one's");
    }

    [SlurmFact]
    public void Srun_with_pmix_starts_the_same_two_ranks_as_mpirun()
    {
        using var experiment = new TinyExperiment(steps: 40);
        var viaMpirun = RunTwoRanks(experiment, "mpirun", "--job", "baseline/1");
        var viaSrun = experiment.Run("srun");
        using (var p = new IarProcess(experiment.Arguments(viaSrun, "--job", "baseline/1"), ["srun", "--mpi=pmix", "-n", "2"]))
            Assert.True(p.WaitForExit() == 0, p.Output);
        Assert.Contains("data parallel: rank 1 of 2", File.ReadAllText(Path.Combine(viaSrun, "run.job-baseline-1.rank-1.log")));
        Assert.True(File.ReadAllBytes(Path.Combine(viaMpirun, Weights)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(viaSrun, Weights))),
            "srun's two ranks trained other weights than mpirun's");
    }

    [Fact]
    public void Submit_with_ranks_per_job_runs_each_array_task_as_that_many_pmix_ranks()
    {
        using var experiment = new TinyExperiment(steps: 20);
        var run = experiment.Run("submitted");
        var r = CliRunner.Run("submit", experiment.File, "--slurm", "--dry-run", "--plugins", experiment.Plugins, "--run-dir", run, "--ranks-per-job", "2");
        Assert.True(r.ExitCode == 0, r.ToString());
        var jobs = File.ReadAllText(Path.Combine(run, "slurm", "jobs.sbatch"));
        Assert.Contains("#SBATCH --ntasks=2\n", jobs);
        Assert.Contains("srun --ntasks=2 --mpi=pmix --kill-on-bad-exit=1 ", jobs);
        Assert.Contains("#SBATCH --ntasks=1\n", File.ReadAllText(Path.Combine(run, "slurm", "prepare.sbatch")));
        Assert.Equal(2, CliRunner.Run("submit", experiment.File, "--slurm", "--dry-run", "--plugins", experiment.Plugins, "--run-dir", run, "--ranks-per-job", "0").ExitCode);
    }

    /// <summary>The pid of the iar process of <paramref name="rank"/> started by the mpirun of <paramref name="launcher"/>.</summary>
    static int RankProcess(int launcher, int rank)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var dir in Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)) continue;
                try
                {
                    var environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                    if (parent == launcher && environment.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
            }
            Thread.Sleep(100);
        }
        return -1;
    }
}

/// <summary>How a global batch is split over ranks and micro-batches.</summary>
public class BatchShareTests
{
    [Theory]
    [InlineData(16, 2, 1)]
    [InlineData(16, 2, 2)]
    [InlineData(24, 3, 4)]
    [InlineData(8, 1, 8)]
    public void The_ranks_parts_cover_the_global_batch_once_in_order(int batch, int ranks, int parts)
    {
        var covered = new List<long>();
        for (int rank = 0; rank < ranks; rank++)
        {
            var ranges = new IAR.Host.Training.BatchShare(rank, ranks, parts).Ranges(batch).ToArray();
            Assert.Equal(parts, ranges.Length);
            Assert.All(ranges, r => Assert.Equal(batch / ranks / parts, r.Size));
            foreach (var (start, size) in ranges) for (long i = start; i < start + size; i++) covered.Add(i);
        }
        Assert.Equal(Enumerable.Range(0, batch).Select(i => (long)i), covered);
    }

    [Fact]
    public void A_batch_that_does_not_split_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new IAR.Host.Training.BatchShare(0, 3, 2).Ranges(16).ToArray());
        Assert.Contains("16 does not split into 3 ranks × 2 micro-batches", e.Message);
    }
}
