using System.CommandLine;
using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Native;
using IAR.Host.Plugins;
using TorchSharp;

namespace IAR.Host.Cli;

/// <summary><c>iar run FILE [key=value…]</c>: validates everything first, then runs the experiment's stages in a run directory.</summary>
public static class RunCommand
{
    public static Command Build(CliContext ctx)
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
        var command = new Command("run", "Run an experiment (resumes an unfinished run of the same config).")
        {
            file, overrides, plugins, runs, runDir, fresh, arms,
        };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var experiment = ExperimentLoader.Load(parse.GetValue(file)!, parse.GetValue(overrides) ?? []);
            var catalog = PluginCatalog.ForCommand(parse.GetValue(plugins), experiment.Spec.Plugins);
            var errors = ExperimentPreflight.Check(experiment, catalog);
            if (errors.Count > 0) throw new ConfigValidationException(errors);
            var selected = SelectArms(experiment, parse.GetValue(arms) ?? []);
            var device = DeviceSelector.Resolve(experiment.Spec.Device);
            if (experiment.Spec.Threads > 0) torch.set_num_threads(experiment.Spec.Threads);

            var run = RunDirectory.Open(parse.GetValue(runs)!, experiment, parse.GetValue(fresh), parse.GetValue(runDir));
            using var log = new RunLog(run.File(RunDirectory.LogFile), ctx);
            log.Info($"{(run.Resumed ? "resuming" : "starting")} {experiment.Spec.Name} in {run.Path}");
            log.Info($"{TorchRuntime.Describe()}, device {device}");
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                var context = new RunContext(selected, catalog, run, log, new MetricsLog(run.File(RunDirectory.MetricsFile)), device, cancel.Token);
                new ExperimentRunner(RunPipeline.Stages(experiment)).Run(context);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <exception cref="ConfigurationException">An arm name the experiment does not have.</exception>
    static Experiment SelectArms(Experiment experiment, IReadOnlyList<string> names)
    {
        if (names.Count == 0) return experiment;
        var known = experiment.Arms.Select(a => a.Name).ToArray();
        var unknown = names.Where(n => !known.Contains(n, StringComparer.Ordinal)).ToArray();
        if (unknown.Length > 0)
            throw new ConfigurationException(
                $"--arms names {string.Join(", ", unknown.Select(n => $"'{n}'"))}, which {experiment.SourceFile} does not define; its arms are {string.Join(", ", known)}.");
        return experiment with { Arms = experiment.Arms.Where(a => names.Contains(a.Name, StringComparer.Ordinal)).ToArray() };
    }
}
