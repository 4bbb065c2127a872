using IAR.Host.Configuration;
using IAR.Host.Runs;
using Spectre.Console;
using System.CommandLine;
using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Plugins;

namespace IAR.Host.Cli;

/// <summary>
/// <c>iar validate FILE… [key=value…]</c>: checks experiments (schema, values, plugins, presets, options) without
/// running them, with the same overrides as <c>iar run</c> applied to every file.
/// </summary>
public static class ValidateCommand
{
    public static Command Build(ConsoleOutput ctx)
    {
        var arguments = new Argument<string[]>("files")
        {
            Description = "Experiment YAML files, then overrides as for 'iar run': key.sub=value sets a value, ~key.sub deletes one.",
            HelpName = "FILE… [key=value…]",
            Arity = ArgumentArity.OneOrMore,
        };
        var plugins = CommonOptions.Plugins();
        var sweep = CommonOptions.Sweep();
        var zip = CommonOptions.Zip();
        var command = new Command("validate", "Check experiment files without running them; every error is reported; lists the arms and what each sets.")
        {
            arguments, plugins, sweep, zip,
        };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var (files, overrides) = Split(parse.GetValue(arguments)!);
            if (files.Count == 0)
                throw new ConfigurationException($"iar validate got only overrides ({string.Join(" ", overrides)}); give at least one experiment file.");
            var catalogs = new Dictionary<string, PluginCatalog>(StringComparer.Ordinal);
            int failed = 0;
            foreach (var file in files)
            {
                var errors = new List<ConfigError>();
                Experiment? experiment = null;
                try
                {
                    experiment = ExperimentLoader.Load(file, overrides, CommonOptions.SweepOf(parse, sweep, zip));
                    var folder = experiment.Spec.Plugins ?? "";
                    if (!catalogs.TryGetValue(folder, out var catalog))
                        catalogs[folder] = catalog = PluginCatalog.ForCommand(parse.GetValue(plugins), experiment.Spec.Plugins);
                    errors.AddRange(ExperimentPreflight.Check(experiment, catalog));
                }
                catch (ConfigValidationException e)
                {
                    errors.AddRange(e.Errors);
                }
                catch (ConfigurationException e)
                {
                    errors.Add(new ConfigError(file, 0, 0, e.Message));
                }
                if (errors.Count == 0)
                {
                    ctx.Out.WriteLine($"ok   {file}: {experiment!.Arms.Count} arm(s): {string.Join(", ", experiment.Arms.Select(a => a.Name))}");
                    // One line per arm with what it sets over the base settings (a sweep's arms included), names aligned.
                    int width = experiment.Arms.Max(a => a.Name.Length);
                    foreach (var arm in experiment.Arms.Where(a => a.Settings.Count > 0))
                        ctx.Out.WriteLine($"       {arm.Name.PadRight(width)}  {string.Join(" ", arm.Settings)}");
                    continue;
                }
                failed++;
                foreach (var error in errors) ctx.Error.WriteLine($"error: {error}");
            }
            return failed == 0 ? ExitCodes.Success : ExitCodes.Usage;
        }));
        return command;
    }

    /// <summary>
    /// Experiment files and overrides: <c>key=value</c> and <c>~key</c> are overrides (those of 'iar run', applied by the
    /// same <see cref="ExperimentLoader.Load"/>) unless a file of that name exists.
    /// </summary>
    static (IReadOnlyList<string> Files, IReadOnlyList<string> Overrides) Split(IEnumerable<string> tokens)
    {
        var files = new List<string>();
        var overrides = new List<string>();
        foreach (var token in tokens)
            (!File.Exists(token) && (token.StartsWith('~') || token.Contains('=')) ? overrides : files).Add(token);
        return (files, overrides);
    }
}
