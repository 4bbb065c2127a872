using System.Diagnostics;
using System.Text.Json;
using IAR.Tests.Support;

namespace IAR.Tests.Training;

/// <summary>
/// Runs only where a Slurm answers (<c>.ci/slurm-up</c> starts a one-node one as root, and CI runs it); under CI a
/// missing Slurm is a failure, not a skip.
/// </summary>
public sealed class SlurmFactAttribute() : ToolFactAttribute("no Slurm answers here (start one with .ci/slurm-up as root)", "sinfo", "-h");

/// <summary>A test that needs Open MPI's mpirun (.ci/run installs openmpi-bin).</summary>
public sealed class MpiFactAttribute() : ToolFactAttribute("no mpirun here (apt-get install openmpi-bin libopenmpi-dev)", "mpirun", "--version");

/// <summary>A test that needs an outside tool: skipped only outside CI when the tool does not answer; in CI it must.</summary>
public abstract class ToolFactAttribute : FactAttribute
{
    protected ToolFactAttribute(string skip, string command, params string[] arguments)
    {
        if (Environment.GetEnvironmentVariable("CI") != "true" && !SlurmTests.Answers(command, arguments))
            Skip = skip;
    }
}

/// <summary>
/// <c>iar submit --slurm</c> against a real Slurm: prepare → array (one task per arm × seed) → report, one task
/// stopped with <c>scancel --signal=TERM</c> on the way, and the result compared with the same experiment run locally.
/// </summary>
public class SlurmTests
{
    internal static bool Answers(string command, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            return p.WaitForExit(10_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    static string Slurm(string command, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    [SlurmFact]
    public void A_submitted_ablation_with_a_task_stopped_by_TERM_and_requeued_ends_with_the_local_runs_weights_and_tables()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: SharedRunFolderTests.TwoByTwo);
        var local = experiment.Run("local");
        // 400 generator steps, checkpoints only at the end: a checkpoint before it is the one TERM makes.
        string[] longJobs = ["training.steps=400", "training.checkpoint_every=1000", "evaluation.every=200"];
        var r = CliRunner.Run([.. experiment.Arguments(local), .. longJobs]);
        Assert.True(r.ExitCode == 0, r.ToString());

        var cluster = experiment.Run("cluster");
        var watch = Stopwatch.StartNew();
        var submit = CliRunner.Run(["submit", experiment.File, .. longJobs, "--slurm", "--plugins", experiment.Plugins, "--run-dir", cluster]);
        Assert.True(submit.ExitCode == 0, submit.ToString());
        var ids = JsonDocument.Parse(File.ReadAllText(Path.Combine(cluster, "slurm", "submitted.json"))).RootElement;
        string array = ids.GetProperty("array").GetRawText(), report = ids.GetProperty("report").GetRawText();

        // Stop the task of iar/1 (index 2 of jobs.txt) once it has logged a training step; it must requeue itself.
        Assert.Equal("iar/1", File.ReadAllLines(Path.Combine(cluster, "slurm", "jobs.txt"))[2]);
        var metrics = Path.Combine(cluster, "arms", "iar", "seed-1", "metrics.jsonl");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(8);
        while (!(File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"stage\":\"generator\"")))
        {
            Assert.True(DateTime.UtcNow < deadline, $"iar/1 logged no step in 8 minutes:\n{Slurm("squeue")}");
            Thread.Sleep(50);
        }
        // Frozen first, so that TERM reaches a job that has not finished (these tiny steps take milliseconds).
        Slurm("scancel", "--signal=STOP", $"{array}_2");
        Assert.False(File.Exists(Path.Combine(cluster, "arms", "iar", "seed-1", "generator.safetensors")), "iar/1 finished before the signal");
        Slurm("scancel", "--signal=TERM", $"{array}_2");
        Slurm("scancel", "--signal=CONT", $"{array}_2");

        while (File.Exists(Path.Combine(cluster, "report.md")) is false || Slurm("squeue", "-h", "-j", report).Trim().Length > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the report job did not finish in 8 minutes:\n{Slurm("squeue")}\n{Slurm("scontrol", "show", "job", report)}");
            Thread.Sleep(500);
        }
        var taskOutput = string.Join("\n", Directory.GetFiles(Path.Combine(cluster, "slurm"), "jobs-*_2.out").Select(File.ReadAllText));
        Assert.Contains("requeueing task 2", taskOutput);
        Assert.Contains("resuming from step", File.ReadAllText(Path.Combine(cluster, "run.job-iar-1.log")));

        SharedRunFolderTests.AssertSameWeights(local, cluster);
        Assert.Equal(SharedRunFolderTests.Tables(local), SharedRunFolderTests.Tables(cluster));
        Console.WriteLine($"Slurm round trip (submit → report) took {watch.Elapsed.TotalSeconds:F0} s");
    }
}
