using IAR.Host.Configuration;
using IAR.Host.Runs;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Plugins;
using IAR.Host.Recipes;
using IAR.Host.Serialization;

namespace IAR.Host.Cli;

/// <summary>
/// <c>iar submit FILE --slurm</c>: the ablation as three Slurm jobs on a cluster, with Slurm's own tools —
/// prepare → a job array with one task per arm × seed (each <c>iar run --job ARM/SEED</c>) → report, chained with
/// <c>--dependency=afterok</c>. Array tasks run their job as a step (<c>srun</c>), so <c>scancel --signal=TERM</c> and
/// <c>--signal=TERM@…</c> before the time limit reach <c>iar</c>, which checkpoints and exits 143; the task then requeues
/// itself (<c>scontrol requeue</c>) and resumes from that checkpoint. The scripts stay in the run folder's
/// <c>slurm/</c>; the paths in them (the .NET host, <c>iar.dll</c>, the experiment, the run folder) must be visible
/// on the compute nodes, as on any cluster with a shared file system.
/// </summary>
public static class SubmitCommand
{
    public static Command Build(ConsoleOutput ctx)
    {
        var file = new Argument<string>("file") { Description = "Experiment YAML file." };
        var overrides = new Argument<string[]>("overrides") { Description = "key.sub=value / ~key.sub, as for iar run.", Arity = ArgumentArity.ZeroOrMore };
        var slurm = new Option<bool>("--slurm") { Description = "Submit to Slurm with sbatch (the only scheduler so far; required)." };
        var plugins = CommonOptions.Plugins();
        var runs = new Option<string>("--runs") { Description = "RunLayout.SlurmFolder of run directories.", HelpName = "DIR", DefaultValueFactory = _ => "runs" };
        var runDir = new Option<string?>("--run-dir") { Description = "Use (or resume) exactly this run directory.", HelpName = "DIR" };
        var arms = new Option<string[]>("--arms")
        {
            Description = "Only these arms' jobs (comma-separated; repeatable).", HelpName = "ARM,…",
            CustomParser = result => result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
        };
        var partition = new Option<string?>("--partition") { Description = "sbatch --partition.", HelpName = "P" };
        var time = new Option<string?>("--time") { Description = "sbatch --time of each array task (e.g. 4:00:00); TERM reaches iar 2 minutes before it.", HelpName = "T" };
        var gpus = new Option<int>("--gpus-per-job") { Description = "GPUs per array task (sbatch --gpus-per-task).", HelpName = "G", DefaultValueFactory = _ => 0 };
        var ranks = new Option<int>("--ranks-per-job")
        {
            Description = "Data-parallel ranks per array task (srun --mpi=pmix -n N; Open MPI's libmpi on the nodes); each rank gets --cpus-per-job and --gpus-per-job.",
            HelpName = "N",
            DefaultValueFactory = _ => 1,
        };
        var cpus = new Option<int>("--cpus-per-job") { Description = "CPUs per array task (sbatch --cpus-per-task).", HelpName = "C", DefaultValueFactory = _ => 1 };
        var extra = new Option<string[]>("--sbatch-arg") { Description = "Another sbatch option for all three jobs (repeatable), e.g. --sbatch-arg=--account=A.", HelpName = "ARG" };
        var sweep = CommonOptions.Sweep();
        var zip = CommonOptions.Zip();
        var dryRun = new Option<bool>("--dry-run") { Description = "Write the scripts into the run folder, submit nothing." };
        var command = new Command("submit", "Submit an experiment as prepare → job array (one task per arm × seed) → report to a cluster scheduler.")
        {
            file, overrides, slurm, plugins, runs, runDir, arms, partition, time, gpus, ranks, cpus, extra, sweep, zip, dryRun,
        };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            if (!parse.GetValue(slurm)) throw new ConfigurationException("iar submit needs a scheduler: --slurm (the one supported) is accepted.");
            var path = Path.GetFullPath(parse.GetValue(file)!);
            var overrideList = parse.GetValue(overrides) ?? [];
            var sweepArguments = CommonOptions.SweepOf(parse, sweep, zip);
            var experiment = ExperimentLoader.Load(path, overrideList, sweepArguments);
            var pluginFolders = parse.GetValue(plugins) ?? [];
            var catalog = PluginCatalog.ForCommand(pluginFolders, experiment.Spec.Plugins);
            var errors = ExperimentPreflight.Check(experiment, catalog);
            if (errors.Count > 0) throw new ConfigValidationException(errors);
            var selected = parse.GetValue(arms) ?? [];
            var jobs = JobId.All(experiment).Where(j => selected.Length == 0 || selected.Contains(j.Arm)).ToArray();
            if (parse.GetValue(ranks) < 1) throw new ConfigurationException($"--ranks-per-job {parse.GetValue(ranks)}: a count ≥ 1 is accepted.");
            if (jobs.Length == 0) throw new ConfigurationException($"--arms {string.Join(",", selected)} selects no job of {path}; its arms are {string.Join(", ", experiment.Arms.Select(a => a.Name))}.");

            var run = RunDirectory.Open(parse.GetValue(runs)!, experiment, fresh: false, parse.GetValue(runDir));
            var scripts = new SlurmScripts(run.Path, Program(), RunArguments(path, overrideList, sweepArguments, pluginFolders, run.Path), jobs,
                new SlurmResources(parse.GetValue(partition), parse.GetValue(time), parse.GetValue(gpus), parse.GetValue(cpus), parse.GetValue(extra) ?? [], parse.GetValue(ranks)),
                experiment.Spec.Name);
            scripts.Write();
            ctx.Plain.WriteLine($"run folder {run.Path}: {jobs.Length} jobs; scripts in {Path.Combine(run.Path, RunLayout.SlurmFolder)}");
            if (parse.GetValue(dryRun)) return ExitCodes.Success;

            var prepare = Sbatch(scripts.Prepare, []);
            var array = Sbatch(scripts.Jobs, [$"--dependency=afterok:{prepare}"]);
            var report = Sbatch(scripts.Report, [$"--dependency=afterok:{array}"]);
            AtomicFile.WriteAllText(Path.Combine(run.Path, RunLayout.SlurmFolder, "submitted.json"),
                $"{{\"prepare\": {prepare}, \"array\": {array}, \"report\": {report}}}\n");
            ctx.Plain.WriteLine($"submitted: prepare {prepare} → array {array} (tasks 0-{jobs.Length - 1}) → report {report}");
            ctx.Plain.WriteLine($"follow with: squeue -j {prepare},{array},{report}   and   iar status {run.Path}");
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>This very program: <c>dotnet iar.dll</c> or the apphost.</summary>
    static IReadOnlyList<string> Program()
    {
        var host = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, typeof(SubmitCommand).Assembly.Location] : [host];
    }

    /// <summary><c>run FILE overrides --sweep … --run-dir DIR</c>: the same experiment (and arms) and run folder in every script.</summary>
    static IReadOnlyList<string> RunArguments(string file, IReadOnlyList<string> overrides, CommandLineSweep sweep, IReadOnlyList<string> plugins, string runDir) =>
        ["run", file, .. overrides, .. sweep.Arguments(), "--run-dir", runDir, .. plugins.SelectMany(folder => new[] { "--plugins", Path.GetFullPath(folder) })];

    /// <returns>The Slurm job id.</returns>
    /// <exception cref="RunFailedException">sbatch is missing or refused the script (its message is passed on).</exception>
    static string Sbatch(string script, IReadOnlyList<string> options)
    {
        var start = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--parsable");
        foreach (var o in options) start.ArgumentList.Add(o);
        start.ArgumentList.Add(script);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new RunFailedException($"sbatch could not be started ({e.Message}); iar submit --slurm needs Slurm's client tools on PATH.", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new RunFailedException($"sbatch refused {script}: {error.Trim()}");
            return output.Trim().Split(';')[0];
        }
    }
}

/// <summary>What each array task asks Slurm for.</summary>
/// <param name="RanksPerJob">Data-parallel ranks (Slurm tasks) of each job; each gets the CPUs and GPUs given per job.</param>
public sealed record SlurmResources(string? Partition, string? Time, int GpusPerJob, int CpusPerJob, IReadOnlyList<string> ExtraArguments, int RanksPerJob = 1);

/// <summary>The three sbatch scripts of a run, in <c>&lt;run&gt;/slurm/</c>, and the job list the array indexes.</summary>
public sealed class SlurmScripts(
    string runDir, IReadOnlyList<string> program, IReadOnlyList<string> runArguments, IReadOnlyList<JobId> jobs, SlurmResources resources, string name)
{
    string Dir => Path.Combine(runDir, RunLayout.SlurmFolder);

    public string Prepare => Path.Combine(Dir, "prepare.sbatch");

    public string Jobs => Path.Combine(Dir, "jobs.sbatch");

    public string Report => Path.Combine(Dir, "report.sbatch");

    public string JobList => Path.Combine(Dir, "jobs.txt");

    public void Write()
    {
        Directory.CreateDirectory(Dir);
        AtomicFile.WriteAllText(JobList, string.Concat(jobs.Select(j => j + "\n")));
        var iar = string.Join(" ", program.Select(Quote));
        var run = iar + " " + string.Join(" ", runArguments.Select(Quote));
        AtomicFile.WriteAllText(Prepare, Script("prepare", [], $"exec {run} --prepare"));
        var options = new List<string> { $"--array=0-{jobs.Count - 1}", "--requeue", "--open-mode=append" };
        if (resources.Time is not null) options.Add("--signal=TERM@120");
        if (resources.GpusPerJob > 0) options.Add($"--gpus-per-task={resources.GpusPerJob}");
        AtomicFile.WriteAllText(Jobs, Script("jobs", options,
            $$"""
            job=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" {{Quote(JobList)}})
            # The job runs as a step, so that scancel --signal=TERM and --signal=TERM@… reach iar itself{{(resources.RanksPerJob > 1 ? "; its ranks join through PMIx, and a rank that fails ends the step" : "")}}.
            srun --ntasks={{resources.RanksPerJob}}{{(resources.RanksPerJob > 1 ? " --mpi=pmix --kill-on-bad-exit=1" : "")}} {{run}} --job "$job"
            code=$?
            if [ "$code" -eq 143 ]; then
              echo "iar: job $job stopped by SIGTERM after writing a checkpoint; requeueing task $SLURM_ARRAY_TASK_ID"
              scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
              exit 0
            fi
            exit "$code"
            """));
        AtomicFile.WriteAllText(Report, Script("report", [], $"exec {iar} report {Quote(runDir)}"));
    }

    string Script(string part, IReadOnlyList<string> options, string body)
    {
        var text = new StringBuilder("#!/bin/bash\n");
        text.Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name=iar-{name}-{part}\n");
        text.Append(CultureInfo.InvariantCulture, $"#SBATCH --output={Dir}/{part}-%A{(part == "jobs" ? "_%a" : "")}.out\n");
        text.Append(CultureInfo.InvariantCulture, $"#SBATCH --ntasks={(part == "jobs" ? resources.RanksPerJob : 1)}\n#SBATCH --cpus-per-task={resources.CpusPerJob}\n");
        if (resources.Partition is not null) text.Append(CultureInfo.InvariantCulture, $"#SBATCH --partition={resources.Partition}\n");
        if (resources.Time is not null && part == "jobs") text.Append(CultureInfo.InvariantCulture, $"#SBATCH --time={resources.Time}\n");
        foreach (var o in options.Concat(resources.ExtraArguments)) text.Append(CultureInfo.InvariantCulture, $"#SBATCH {o}\n");
        text.Append("set -u\n").Append(body).Append('\n');
        return text.ToString();
    }

    static string Quote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
