using Spectre.Console;

namespace IAR.Host.Cli;

/// <summary>
/// Where a command writes: tables and progress to <see cref="Out"/>, unformatted text (Markdown, JSON) to
/// <see cref="Plain"/>, one-sentence errors to <see cref="Error"/>.
/// </summary>
public sealed record CliContext(IAnsiConsole Out, TextWriter Plain, TextWriter Error)
{
    public static CliContext ForConsole() => new(AnsiConsole.Console, Console.Out, Console.Error);

    /// <summary>A context writing plain text to <paramref name="output"/> (tests, redirected output).</summary>
    public static CliContext ForWriters(TextWriter output, TextWriter error) =>
        new(AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        }), output, error);

    /// <summary>Whether a person is watching (live progress bars) or output goes to a file or pipe (plain lines).</summary>
    public bool IsInteractive => Out.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
}
