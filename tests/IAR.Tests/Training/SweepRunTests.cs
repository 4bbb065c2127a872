using System.Text.Json;
using IAR.Tests.Support;

namespace IAR.Tests.Training;

/// <summary>A 2 × 2 sweep of the tiny experiment run end to end: as four arms, by local workers and as a Slurm array task would.</summary>
public class SweepRunTests
{
    /// <summary>The sweep on the command line (what workers and Slurm scripts must repeat to find the same arms).</summary>
    internal static readonly string[] Sweep = ["--sweep", "iar.lambda=0.5,2", "--sweep", "training.lr=0.05,0.02"];

    internal static readonly string[] Arms = ["lambda-0.5_lr-0.05", "lambda-0.5_lr-0.02", "lambda-2_lr-0.05", "lambda-2_lr-0.02"];

    internal const string Iar = "iar: {enabled: true, cluster_size: 4}";

    [Fact]
    public void A_two_by_two_sweep_runs_as_four_arms_in_two_workers_and_the_report_names_them()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: Iar);
        var run = experiment.Run("run");
        var r = CliRunner.Run([.. experiment.Arguments(run), .. Sweep, "--workers", "2"]);
        Assert.True(r.ExitCode == 0, r.ToString());

        foreach (var arm in Arms)
            Assert.True(File.Exists(Path.Combine(run, "arms", arm, "seed-1", "generator.safetensors")), $"arm {arm} has no weights");
        Assert.Equal(Arms.Length, Directory.GetDirectories(Path.Combine(run, "arms")).Length);
        var tables = SharedRunFolderTests.Tables(run);
        foreach (var arm in Arms) Assert.Contains(tables, row => row.StartsWith($"| {arm} |", StringComparison.Ordinal));
        var status = CliRunner.Run("status", run);
        Assert.Contains("4 jobs: 4 done", status.Output);
    }

    [Fact]
    public void A_submitted_sweep_lists_its_four_arms_and_an_array_task_finds_its_arm()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: Iar);
        var run = experiment.Run("cluster");
        var submit = CliRunner.Run(["submit", experiment.File, .. Sweep, "--slurm", "--dry-run", "--plugins", experiment.Plugins, "--run-dir", run]);
        Assert.True(submit.ExitCode == 0, submit.ToString());
        var jobs = File.ReadAllLines(Path.Combine(run, "slurm", "jobs.txt"));
        Assert.Equal(Arms.Select(a => $"{a}/1"), jobs);

        // What task 3 of the array runs: the script's command line with its job (the sweep repeated, or no such arm).
        var script = File.ReadAllText(Path.Combine(run, "slurm", "jobs.sbatch"));
        Assert.Contains("'--sweep' 'iar.lambda=0.5,2' '--sweep' 'training.lr=0.05,0.02'", script);
        var task = CliRunner.Run([.. experiment.Arguments(run), .. Sweep, "--job", jobs[3]]);
        Assert.True(task.ExitCode == 0, task.ToString());
        Assert.True(File.Exists(Path.Combine(run, "arms", Arms[3], "seed-1", "generator.safetensors")));
    }

    [SlurmFact]
    public void A_sweep_submitted_to_slurm_runs_its_four_arms_as_array_tasks_and_the_report_names_them()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: Iar);
        var run = experiment.Run("cluster");
        var submit = CliRunner.Run(["submit", experiment.File, .. Sweep, "--slurm", "--plugins", experiment.Plugins, "--run-dir", run]);
        Assert.True(submit.ExitCode == 0, submit.ToString());
        Assert.Contains("4 jobs", submit.Output);
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "slurm", "submitted.json"))).RootElement.GetProperty("report").GetRawText();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(8);
        while (!File.Exists(Path.Combine(run, "report.md")) || Squeue(report).Length > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the report job did not finish in 8 minutes");
            Thread.Sleep(500);
        }
        var tables = SharedRunFolderTests.Tables(run);
        foreach (var arm in Arms)
        {
            Assert.True(File.Exists(Path.Combine(run, "arms", arm, "seed-1", "generator.safetensors")), $"arm {arm} has no weights");
            Assert.Contains(tables, row => row.StartsWith($"| {arm} |", StringComparison.Ordinal));
        }
    }

    static string Squeue(string job)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("squeue", ["-h", "-j", job]) { RedirectStandardOutput = true })!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output.Trim();
    }
}
