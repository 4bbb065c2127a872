using IAR.Host.Runs;
using System.CommandLine;
using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Recipes;
using IAR.Host.Reporting;

namespace IAR.Host.Cli;

/// <summary>
/// Commands that read a run folder written by <c>iar run</c> (by one process, local workers or Slurm array tasks):
/// <c>iar status DIR</c> shows every job, <c>iar report DIR</c> builds the report from the jobs that have finished,
/// <c>iar pool DIR…</c> gives one verdict over several runs of one experiment.
/// </summary>
public static class RunFolderCommands
{
    public static Command Status(ConsoleOutput ctx)
    {
        var dir = new Argument<string>("dir") { Description = "A run folder (runs/NNN-name)." };
        var command = new Command("status", "Every job of a run: pending, running (with its step), done, interrupted or failed (with its error).") { dir };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var run = Path.GetFullPath(parse.GetValue(dir)!);
            var experiment = LoadConfig(run);
            var rows = JobId.All(experiment).Select(job => Describe(run, job, experiment.Arm(job.Arm).Spec.Training.Steps)).ToArray();
            int width = Math.Max(3, rows.Max(r => r.Job.Length));
            ctx.Plain.WriteLine($"{"job".PadRight(width)}  {"state",-12}  detail");
            foreach (var (job, state, detail) in rows) ctx.Plain.WriteLine($"{job.PadRight(width)}  {state,-12}  {detail}");
            var counts = rows.GroupBy(r => r.State).Select(g => $"{g.Count()} {g.Key}");
            ctx.Plain.WriteLine($"{rows.Length} jobs: {string.Join(", ", counts)}");
            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command Report(ConsoleOutput ctx)
    {
        var dir = new Argument<string>("dir") { Description = "A run folder (runs/NNN-name)." };
        var command = new Command("report", "Build report.md and report.html of a run folder from the jobs that have finished so far.") { dir };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var run = Path.GetFullPath(parse.GetValue(dir)!);
            var outcome = RunReport.Build(run, LoadConfig(run));
            ctx.Plain.WriteLine(outcome.Verdict);
            ctx.Plain.WriteLine($"report: {outcome.MarkdownPath} and {outcome.HtmlPath} ({outcome.Plots.Count} plots)");
            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command Pool(ConsoleOutput ctx)
    {
        var dirs = new Argument<string[]>("dirs") { Description = "Two or more run folders of one experiment, run with different `seed` values.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("pool",
            "One verdict over several runs of one experiment (each run a replicate: its data subset, feature extractor and, when it trains one, tokenizer), beside each run's own.") { dirs };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var runs = parse.GetValue(dirs)!.Select(d => Path.GetFullPath(d)).ToArray();
            var experiments = runs.Select(run => (Run: run, Experiment: LoadConfig(run))).ToArray();
            var first = experiments[0];
            if (experiments.FirstOrDefault(e => e.Experiment.Spec.Name != first.Experiment.Spec.Name) is { Run: not null } other)
                throw new ConfigurationException(
                    $"{other.Run} is a run of '{other.Experiment.Spec.Name}' but {first.Run} of '{first.Experiment.Spec.Name}'; runs of one experiment are accepted.");
            var pooled = RunPooling.Pool(experiments.Select(e => (e.Run, RunReport.Comparisons(e.Run, e.Experiment))).ToArray());
            foreach (var arm in pooled)
            {
                ctx.Plain.WriteLine($"arm '{arm.Pooled.Arm}' against '{arm.Pooled.Baseline}':");
                foreach (var (run, c) in arm.PerRun)
                    ctx.Plain.WriteLine($"  {run}: {RunReport.Answers(c)} ({c.EndQuality.Seeds} seed{(c.EndQuality.Seeds == 1 ? "" : "s")})");
                ctx.Plain.WriteLine($"  pooled over {arm.PerRun.Count} runs: {RunReport.Answers(arm.Pooled)}");
                ctx.Plain.WriteLine($"  intervals: {arm.Pooled.Speed?.Basis ?? "no speed"}; {arm.Pooled.EndQuality.Basis}");
                if (SeedsNeeded(arm) is { } plan) ctx.Plain.WriteLine(plan);
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>
    /// "  seeds one run needs, … 4 seeds 37 % / 38 %, …": the chance one run names the speed-up / end-quality difference,
    /// from the pooled runs' seed pairs (<see cref="SeedPlanning"/>); null when neither plan could be made.
    /// </summary>
    static string? SeedsNeeded(PooledComparison arm)
    {
        if (arm.SpeedPlan is null && arm.EndQualityPlan is null) return null;
        static string Chance(SeedPlan? plan, int seeds) =>
            plan is null ? "—" : string.Create(CultureInfo.InvariantCulture, $"{plan.Chances.Single(c => c.Seeds == seeds).Chance:P0}");
        var measured = new List<string>();
        if (arm.SpeedPlan is { } speed)
            measured.Add(string.Create(CultureInfo.InvariantCulture, $"speed-up {Math.Exp(speed.Mean):F2}×, log sd {speed.StandardDeviation:F3} over {speed.Pairs} pairs"));
        if (arm.EndQualityPlan is { } end)
            measured.Add(string.Create(CultureInfo.InvariantCulture, $"final FID Δ {end.Mean:+0.00;-0.00}, sd {end.StandardDeviation:F2} over {end.Pairs} pairs"));
        var chances = SeedPlanning.SeedCounts.Select(n => $"{n} seeds {Chance(arm.SpeedPlan, n)} / {Chance(arm.EndQualityPlan, n)}");
        return $"  seeds one run needs, taking the runs' seed pairs as the effect ({string.Join("; ", measured)}): " +
            $"chance one run names speed / end quality: {string.Join(", ", chances)} (simulated with the report's intervals)";
    }

    /// <exception cref="ConfigurationException">The folder is not a run folder.</exception>
    static Experiment LoadConfig(string run)
    {
        var config = Path.Combine(run, RunLayout.ConfigFile);
        if (!File.Exists(config))
            throw new ConfigurationException($"{run} is not a run folder: it has no {RunLayout.ConfigFile}; a folder written by `iar run` (runs/NNN-name) is accepted.");
        return ExperimentLoader.Load(config);
    }

    /// <summary>A job's state from its status.json, its lock (is a process still on it?) and its metrics.jsonl (step).</summary>
    static (string Job, string State, string Detail) Describe(string run, JobId job, long steps)
    {
        var folder = Path.Combine(run, job.Folder);
        var status = RunDirectory.ReadStatus(folder);
        string step = LastStep(folder) is long s ? $"step {s.ToString(CultureInfo.InvariantCulture)}/{steps.ToString(CultureInfo.InvariantCulture)}" : "";
        return status?.State switch
        {
            null => (job.ToString(), "pending", ""),
            RunState.Complete => (job.ToString(), "done", step),
            RunState.Failed => (job.ToString(), "failed", status.Message ?? ""),
            RunState.Interrupted => (job.ToString(), "interrupted", step),
            _ when RunDirectory.IsLocked(folder) => (job.ToString(), "running", step),
            _ => (job.ToString(), "stopped", $"{step} (no process holds it: killed; `iar run` resumes it)".Trim()),
        };
    }

    static long? LastStep(string folder)
    {
        var records = new MetricsLog(Path.Combine(folder, RunLayout.MetricsFile)).ReadAll();
        return records.Where(r => r.TryGetProperty("step", out _)).Select(r => r.GetProperty("step").GetInt64()).DefaultIfEmpty(-1).Max() is long s and >= 0
            ? s : null;
    }
}
