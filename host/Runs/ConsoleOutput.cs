using Spectre.Console;

namespace IAR.Host.Runs;

/// <summary>
/// Where a command writes: tables and progress to <see cref="Out"/>, unformatted text (Markdown, JSON) to
/// <see cref="Plain"/>, one-sentence errors to <see cref="Error"/>.
/// </summary>
public sealed record ConsoleOutput(IAnsiConsole Out, TextWriter Plain, TextWriter Error)
{
    /// <summary>
    /// The line width when output goes to a file or pipe. Spectre wraps every line at its profile width, which is 80
    /// without a terminal; a log line must stay one line for grep and for the reader of run.log's console twin.
    /// </summary>
    const int UnwrappedWidth = 1 << 16;

    /// <summary>The process console; lines are wrapped at the terminal's width only when stdout is a terminal.</summary>
    public static ConsoleOutput ForConsole()
    {
        var console = AnsiConsole.Console;
        if (Console.IsOutputRedirected) console.Profile.Width = UnwrappedWidth;
        return new(console, Console.Out, Console.Error);
    }

    /// <summary>A context writing plain, unwrapped text to <paramref name="output"/> (tests, redirected output).</summary>
    public static ConsoleOutput ForWriters(TextWriter output, TextWriter error)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = UnwrappedWidth;
        return new(console, output, error);
    }

    /// <summary>Whether a person is watching (live progress bars) or output goes to a file or pipe (plain lines).</summary>
    public bool IsInteractive => Out.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
}
