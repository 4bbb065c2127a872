using IAR.Host.Runs;
using Spectre.Console;
using System.CommandLine;
using IAR.Host.Native;

namespace IAR.Host.Cli;

/// <summary>The <c>iar</c> command tree. Parse errors are usage errors (exit code 2).</summary>
public static class IarCommandLine
{
    public static RootCommand Build(ConsoleOutput ctx)
    {
        var root = new RootCommand("IAR.Plugins: cluster-oriented token prediction (IAR, CVPR 2025) for autoregressive image generators.")
        {
            PluginsCommand.Build(ctx),
            ValidateCommand.Build(ctx),
            RunCommand.Build(ctx),
            RunFolderCommands.Status(ctx),
            RunFolderCommands.Report(ctx),
            RunFolderCommands.Pool(ctx),
            SubmitCommand.Build(ctx),
            RearrangeCommand.Build(ctx),
            ConvertCommand.Build(ctx),
            SampleCommand.Build(ctx),
            ExtractCommand.Build(ctx),
            EvaluateCommand.Build(ctx),
            DoctorCommand.Build(ctx),
            SchemaCommand.Build(ctx),
            AnalyzeCommand.Build(ctx),
        };
        root.Add(CommonOptions.Verbose);
        root.Add(CommonOptions.LibTorch);
        return root;
    }

    public static int Run(string[] args, ConsoleOutput ctx)
    {
        var parse = Build(ctx).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) ctx.Error.WriteLine($"error: {error.Message}");
            ctx.Error.WriteLine("Run 'iar --help' for usage.");
            return ExitCodes.Usage;
        }
        // An external libtorch must be loaded before anything touches TorchSharp.
        var libtorch = parse.GetValue(CommonOptions.LibTorch) ?? Environment.GetEnvironmentVariable(ExternalLibTorch.EnvironmentVariable);
        if (!string.IsNullOrEmpty(libtorch) && ExternalLibTorch.LoadedFrom is null)
        {
            int code = CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
            {
                ExternalLibTorch.Load(libtorch);
                return ExitCodes.Success;
            });
            if (code != ExitCodes.Success) return code;
        }
        return parse.Invoke(new InvocationConfiguration { Output = ConsoleWriter(ctx), Error = ctx.Error });
    }

    static TextWriter ConsoleWriter(ConsoleOutput ctx) => new AnsiTextWriter(ctx);

    /// <summary>Routes help text through the context's console so tests capture it.</summary>
    sealed class AnsiTextWriter(ConsoleOutput ctx) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => ctx.Out.Write(value.ToString());

        public override void Write(string? value)
        {
            if (value is not null) ctx.Out.Write(value);
        }
    }
}
