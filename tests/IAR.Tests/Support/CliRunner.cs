using IAR.Host.Runs;
using IAR.Host.Cli;

namespace IAR.Tests.Support;

/// <summary>Runs the <c>iar</c> command line in-process and captures its output and exit code.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = IarCommandLine.Run(args, ConsoleOutput.ForWriters(output, error));
        return new Result(code, output.ToString(), error.ToString());
    }
}
