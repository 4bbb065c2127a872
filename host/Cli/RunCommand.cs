using IAR.Host.Configuration;
using IAR.Host.Runs;
using System.CommandLine;
using System.Runtime.InteropServices;
using IAR.Abstractions;
using IAR.Host.Distributed;
using IAR.Host.Experiments;
using IAR.Host.Native;
using IAR.Host.Plugins;
using IAR.Host.Recipes;
using TorchSharp;

namespace IAR.Host.Cli;

/// <summary>
/// <c>iar run FILE [key=value…]</c>: validates everything first, then runs the ablation recipe (prepare → jobs →
/// report) in a run directory: in this process, in <c>--workers N</c> local processes, or one <c>--job</c> at a time.
/// SIGTERM and SIGINT let the current training step finish, write a checkpoint, mark the job interrupted and exit
/// 143 / 130; the next call resumes.
/// </summary>
public static class RunCommand
{
    public const int Terminated = 143;   // 128 + SIGTERM, what Slurm, Kubernetes and timeout expect

    public static Command Build(ConsoleOutput ctx)
    {
        var file = new Argument<string>("file") { Description = "Experiment YAML file." };
        var overrides = new Argument<string[]>("overrides")
        {
            Description = "key.sub=value sets a value, ~key.sub deletes one (e.g. training.steps=200 arms.iar.iar.lambda=2).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var plugins = CommonOptions.Plugins();
        var runs = new Option<string>("--runs") { Description = "Folder of run directories.", HelpName = "DIR", DefaultValueFactory = _ => "runs" };
        var runDir = new Option<string?>("--run-dir") { Description = "Use (or resume) exactly this run directory.", HelpName = "DIR" };
        var fresh = new Option<bool>("--fresh") { Description = "Start a new run instead of resuming an unfinished one of the same config." };
        var arms = new Option<string[]>("--arms")
        {
            Description = "Train and evaluate only these arms (comma-separated), e.g. a part of a large ablation; the run directory " +
                          "and report are those of the whole experiment, so later calls with --run-dir add the other arms.",
            HelpName = "ARM,…",
            // One token per --arms (repeat the option for more), so that overrides after it stay overrides.
            CustomParser = result => result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
        };
        var job = new Option<string[]>("--job")
        {
            Description = "Run only this job (ARM/SEED, e.g. iar/0; repeatable), after prepare (which runs first if missing, under a lock); " +
                          "no report: build it with 'iar report DIR'. What a Slurm array task runs.",
            HelpName = "ARM/SEED",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var workers = new Option<int>("--workers")
        {
            Description = "Prepare once, then train the jobs in N local worker processes that take them from the run folder; the report at the end.",
            HelpName = "N",
            DefaultValueFactory = _ => 0,
        };
        var devices = new Option<string?>("--devices")
        {
            Description = "With --workers: the devices the workers use in turn, e.g. cuda:0,cuda:1.",
            HelpName = "LIST",
        };
        var device = new Option<string?>("--device")
        {
            Description = "Run on this device (auto, cpu, cuda, cuda:N) instead of the experiment's 'device:' (not part of the run's identity).",
            HelpName = "DEVICE",
        };
        var prepareOnly = new Option<bool>("--prepare") { Description = "Only the prepare step (data, tokenizer, token cache, evaluation resources); what a Slurm submission runs first." };
        var sweep = CommonOptions.Sweep();
        var zip = CommonOptions.Zip();
        var worker = new Option<int?>("--worker") { Description = "Internal: run as local worker N of --workers.", Hidden = true };
        var workerCount = new Option<int>("--worker-count") { Description = "Internal: with --worker, how many workers share this machine.", Hidden = true, DefaultValueFactory = _ => 1 };
        var command = new Command("run", "Run an experiment (resumes an unfinished run of the same config).")
        {
            file, overrides, plugins, runs, runDir, fresh, arms, job, workers, devices, device, prepareOnly, sweep, zip, worker, workerCount,
        };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () => Execute(ctx, new RunRequest(
            parse.GetValue(file)!, parse.GetValue(overrides) ?? [], CommonOptions.SweepOf(parse, sweep, zip), parse.GetValue(plugins) ?? [], parse.GetValue(runs)!,
            parse.GetValue(runDir), parse.GetValue(fresh), parse.GetValue(arms) ?? [], parse.GetValue(job) ?? [], parse.GetValue(workers),
            (parse.GetValue(devices) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            parse.GetValue(device), parse.GetValue(prepareOnly), parse.GetValue(worker), parse.GetValue(workerCount), parse.GetValue(CommonOptions.LibTorch),
            parse.GetValue(CommonOptions.Verbose)))));
        return command;
    }

    /// <summary>What <c>iar run</c> was asked to do: its arguments, typed.</summary>
    sealed record RunRequest(
        string File, string[] Overrides, CommandLineSweep Sweep, string[] Plugins, string Runs, string? RunDir, bool Fresh, string[] Arms, string[] SingleJobs,
        int Workers, string[] Devices, string? Device, bool PrepareOnly, int? Worker, int WorkerCount, string? LibTorch, bool Verbose);

    /// <summary>
    /// Validate everything (experiment, plugins, preflight, the launch), open the run folder and its log, then run the
    /// recipe: prepare only, local workers, or the jobs (and the report) in this process.
    /// </summary>
    static int Execute(ConsoleOutput ctx, RunRequest request)
    {
        var experiment = ExperimentLoader.Load(request.File, request.Overrides, request.Sweep);
        var catalog = PluginCatalog.ForCommand(request.Plugins, experiment.Spec.Plugins);
        var errors = ExperimentPreflight.Check(experiment, catalog);
        if (errors.Count > 0) throw new ConfigValidationException(errors);
        var jobs = request.SingleJobs.Length > 0 ? ParseJobs(experiment, request.SingleJobs) : SelectJobs(experiment, request.Arms);
        // Data parallel: this process is one rank of mpirun / srun (one process otherwise).
        var launch = DistributedLaunch.FromEnvironment();
        var torchDevice = CheckLaunch(experiment, request, jobs, launch);

        using var signals = new StopSignals();
        using var group = ProcessGroup.Start(launch, torchDevice, signals.Token);
        // Rank 0 chooses (or creates) the run folder; the other ranks join it.
        var mainRun = group.IsMain ? RunDirectory.Open(request.Runs, experiment, request.Fresh, request.RunDir) : null;
        var runPath = group.Agree(() => mainRun!.Path, "the run folder");
        var run = mainRun ?? RunDirectory.Open(request.Runs, experiment, fresh: false, runPath);
        using var log = new RunLog(run.File(LogName(request, jobs, group)), group.IsMain ? ctx : ConsoleOutput.ForWriters(TextWriter.Null, ctx.Error));
        log.Info($"{(run.Resumed ? "resuming" : "starting")} {experiment.Spec.Name} in {run.Path}");
        log.Info($"{TorchRuntime.Describe()}, device {torchDevice}" +
                 (group.IsDistributed ? $", data parallel: {group.Describe()}, {torch.get_num_threads()} threads"
                     : request.Worker is int w ? $", local worker {w} of {request.WorkerCount}, {torch.get_num_threads()} threads" : ""));
        var env = new RunEnvironment(catalog, run, log, new MetricsLog(run.File(RunLayout.MetricsFile)), torchDevice, signals.Token, group);
        try
        {
            if (request.PrepareOnly)
            {
                AblationRecipe.PrepareOnce(experiment, env).Dispose();
                group.Finish();
                return ExitCodes.Success;
            }
            if (request.Workers > 0)
            {
                var workerArgs = new WorkerArguments(Path.GetFullPath(request.File), request.Overrides, request.Sweep, request.Plugins, request.Arms, request.SingleJobs,
                    request.LibTorch, request.Verbose);
                return LocalWorkers.Run(experiment, env, request.Workers, request.Devices, workerArgs, signals);
            }
            AblationRecipe.Run(experiment, jobs, env, report: request.Worker is null && request.SingleJobs.Length == 0);
            group.Finish();
        }
        catch (OperationCanceledException) when (signals.Received == PosixSignal.SIGTERM)
        {
            ctx.Error.WriteLine("terminated (SIGTERM): the last step's checkpoint was written and the next `iar run` resumes from it.");
            return Terminated;
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// The checks that need the launch (workers and ranks exclude each other, every batch splits into ranks × micro-batches),
    /// the device this process trains on, and its thread count.
    /// </summary>
    static torch.Device CheckLaunch(Experiment experiment, RunRequest request, IReadOnlyList<JobId> jobs, DistributedLaunch launch)
    {
        if (request.Workers < 0) throw new ConfigurationException($"--workers {request.Workers}: a count ≥ 1 is accepted.");
        if (request.Devices.Length > 0 && request.Workers == 0) throw new ConfigurationException("--devices needs --workers N.");
        if (launch.Size > 1 && request.Workers > 0)
            throw new ConfigurationException($"--workers {request.Workers} under a data-parallel launch ({launch}): use one or the other.");
        foreach (var arm in experiment.Arms.Where(a => jobs.Any(j => j.Arm == a.Name)))
        {
            var t = arm.Spec.Training;
            if (t.BatchSize % (launch.Size * t.GradientAccumulation) != 0)
                throw new ConfigurationException(
                    $"Arm '{arm.Name}': training.batch_size = {t.BatchSize} does not split into {launch.Size} ranks × training.gradient_accumulation = " +
                    $"{t.GradientAccumulation}; a multiple of {launch.Size * t.GradientAccumulation} is accepted.");
        }
        var deviceSpec = request.Device ?? experiment.Spec.Device;
        // One GPU per rank of a node unless the device names one.
        var torchDevice = DeviceSelector.Resolve(launch.Size > 1 && deviceSpec is "cuda" or "auto" && torch.cuda.is_available() ? $"cuda:{launch.LocalRank}" : deviceSpec);
        foreach (var d in request.Devices) DeviceSelector.Resolve(d);
        // The ranks of a node, or the local workers, share its cores (Environment.ProcessorCount already counts only this
        // process's, if bound); the experiment's threads: wins.
        int sharing = launch.LocalSize > 1 ? launch.LocalSize : request.Worker is not null ? request.WorkerCount : 1;
        if (ThreadShare.PerProcess(experiment.Spec.Threads, Environment.ProcessorCount, sharing) is int threads) torch.set_num_threads(threads);
        return torchDevice;
    }

    /// <summary>
    /// One log per process: the run's own, a worker's, or a single job's (array tasks run side by side); ranks after 0
    /// write theirs beside rank 0's and print only errors.
    /// </summary>
    static string LogName(RunRequest request, IReadOnlyList<JobId> jobs, ProcessGroup group)
    {
        var name = request.Worker is int w ? RunLayout.WorkerLog(w)
            : request.SingleJobs.Length > 0 ? $"run.job-{string.Join("+", jobs.Select(j => $"{j.Arm}-{j.Seed}"))}.log"
            : RunLayout.LogFile;
        return group.IsMain ? name : Path.ChangeExtension(name, $"rank-{group.Rank}.log");
    }

    /// <summary>Every job of the experiment, or those of the arms <c>--arms</c> names.</summary>
    /// <exception cref="ConfigurationException">An arm name the experiment does not have.</exception>
    static IReadOnlyList<JobId> SelectJobs(Experiment experiment, IReadOnlyList<string> names)
    {
        var all = JobId.All(experiment);
        if (names.Count == 0) return all;
        var known = experiment.Arms.Select(a => a.Name).ToArray();
        var unknown = names.Where(n => !known.Contains(n, StringComparer.Ordinal)).ToArray();
        if (unknown.Length > 0)
            throw new ConfigurationException(
                $"--arms names {string.Join(", ", unknown.Select(n => $"'{n}'"))}, which {experiment.SourceFile} does not define; its arms are {string.Join(", ", known)}.");
        return all.Where(job => names.Contains(job.Arm, StringComparer.Ordinal)).ToArray();
    }

    /// <exception cref="ConfigurationException">A job that is not ARM/SEED of one of the experiment's arms and seeds.</exception>
    static IReadOnlyList<JobId> ParseJobs(Experiment experiment, IReadOnlyList<string> texts)
    {
        var all = JobId.All(experiment);
        return texts.Select(text => all.FirstOrDefault(j => j.ToString() == text) is { Arm: not null } found
            ? found
            : throw new ConfigurationException(
                $"--job {text}: {experiment.SourceFile} has no such job; ARM/SEED of its arms and seeds is accepted ({string.Join(", ", all)}).")).ToArray();
    }
}
