using Spectre.Console;
using System.CommandLine;
using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Plugins;

namespace IAR.Host.Cli;

/// <summary><c>iar validate FILE…</c>: checks experiments (schema, values, plugins, presets, options) without running them.</summary>
public static class ValidateCommand
{
    public static Command Build(CliContext ctx)
    {
        var files = new Argument<string[]>("files") { Description = "Experiment YAML files.", Arity = ArgumentArity.OneOrMore };
        var plugins = CommonOptions.Plugins();
        var command = new Command("validate", "Check experiment files without running them; every error is reported.") { files, plugins };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var catalogs = new Dictionary<string, PluginCatalog>(StringComparer.Ordinal);
            int failed = 0;
            foreach (var file in parse.GetValue(files)!)
            {
                var errors = new List<ConfigError>();
                Experiment? experiment = null;
                try
                {
                    experiment = ExperimentLoader.Load(file);
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
                    continue;
                }
                failed++;
                foreach (var error in errors) ctx.Error.WriteLine($"error: {error}");
            }
            return failed == 0 ? ExitCodes.Success : ExitCodes.Usage;
        }));
        return command;
    }
}
