using IAR.Host.Runs;
using System.CommandLine;
using IAR.Abstractions;
using IAR.Host.Plugins;
using Spectre.Console;

namespace IAR.Host.Cli;

/// <summary><c>iar plugins</c>: the built-in plugins and those of the <c>--plugins</c> folders, with versions, model families and presets.</summary>
public static class PluginsCommand
{
    public static Command Build(ConsoleOutput ctx)
    {
        var plugins = CommonOptions.Plugins();
        var options = new Option<bool>("--options") { Description = "Also list every option of every preset." };
        var command = new Command("plugins", "List the plugins, their presets and versions.") { plugins, options };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var catalog = PluginCatalog.ForCommand(parse.GetValue(plugins));
            Print(ctx, catalog, parse.GetValue(options));
            return ExitCodes.Success;
        }));
        return command;
    }

    static void Print(ConsoleOutput ctx, PluginCatalog catalog, bool withOptions)
    {
        ctx.Out.WriteLine($"Plugins in {string.Join(", ", catalog.Folders)}:");
        var table = new Table().AddColumns("plugin", "version", "model", "presets", "description");
        foreach (var p in catalog.Plugins)
        {
            var rows = p.Tokenizers.Select(f => ("tokenizer", (IModelFactory)f))
                .Concat(p.Generators.Select(f => ($"generator ({PresetOptions.SnakeCase(f.Kind.ToString()).Replace('_', '-')})", (IModelFactory)f)))
                .ToList();
            if (rows.Count == 0) table.AddRow(Markup.Escape(p.Name), p.Version, "-", "(no models yet)", Markup.Escape(p.Description));
            foreach (var (role, f) in rows)
                table.AddRow(Markup.Escape(p.Name), p.Version, Markup.Escape($"{role}: {f.Name}"),
                    Markup.Escape(string.Join(", ", f.Presets.Select(x => x.Name))), Markup.Escape(f.Description));
        }
        ctx.Out.Write(table);
        if (!withOptions) return;
        foreach (var p in catalog.Plugins)
        foreach (var f in p.Tokenizers.Cast<IModelFactory>().Concat(p.Generators))
        foreach (var preset in f.Presets)
        {
            ctx.Out.WriteLine($"{p.Name} {f.Name} {preset.Name}: {preset.Description}");
            foreach (var o in PresetOptions.Describe(preset.Options))
                ctx.Out.WriteLine($"    {o.Key} = {o.Value}   ({o.Type})");
        }
    }
}
