using IAR.Host.Runs;
using System.CommandLine;
using IAR.Host.Experiments;
using Spectre.Console;

namespace IAR.Host.Cli;

/// <summary><c>iar schema</c>: every YAML key with its type, default and meaning (the README's table is this output).</summary>
public static class SchemaCommand
{
    public static Command Build(ConsoleOutput ctx)
    {
        var markdown = new Option<bool>("--markdown") { Description = "Print a Markdown table." };
        var command = new Command("schema", "List every experiment YAML key with its type, default and meaning.") { markdown };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            if (parse.GetValue(markdown))
            {
                ctx.Plain.Write(SchemaDocumentation.Markdown());
                return ExitCodes.Success;
            }
            var table = new Table().AddColumns("key", "type", "default", "meaning");
            foreach (var r in SchemaDocumentation.Rows())
                table.AddRow(Markup.Escape(r.Key), Markup.Escape(r.Type), Markup.Escape(r.Default), Markup.Escape(r.Description));
            ctx.Out.Write(table);
            return ExitCodes.Success;
        }));
        return command;
    }
}
