using System.Globalization;
using Spectre.Console;

namespace IAR.Host.Runs;

/// <summary>The run's human log: every line goes to run.log (with a timestamp) and to the console.</summary>
public sealed class RunLog : IDisposable
{
    readonly StreamWriter file;
    readonly ConsoleOutput console;

    public RunLog(string path, ConsoleOutput console)
    {
        this.console = console;
        file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    public ConsoleOutput Console => console;

    public void Info(string message)
    {
        Write("info", message);
        console.Out.WriteLine(message);
    }

    public void Warn(string message)
    {
        Write("warn", message);
        console.Out.MarkupLineInterpolated($"[yellow]warning:[/] {message}");
    }

    /// <summary>Only into run.log (e.g. periodic training lines while a live progress bar shows the same).</summary>
    public void FileOnly(string message) => Write("info", message);

    void Write(string level, string message)
    {
        lock (file)
            file.WriteLine($"{DateTimeOffset.Now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} {level} {message}");
    }

    public void Dispose() => file.Dispose();
}
