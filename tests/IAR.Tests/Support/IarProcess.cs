using System.Diagnostics;

namespace IAR.Tests.Support;

/// <summary>
/// The built <c>iar</c> (<c>dotnet iar.dll</c> of the test output) as a separate process: for what an in-process run
/// cannot show — SIGKILL, SIGTERM, several processes sharing a run folder.
/// </summary>
internal sealed class IarProcess : IDisposable
{
    static string Iar => Path.Combine(AppContext.BaseDirectory, "iar.dll");

    readonly Process process;
    readonly System.Text.StringBuilder output = new();

    /// <param name="launcher">A command that starts iar, e.g. <c>mpirun -np 2</c>; none by default.</param>
    /// <param name="environment">Variables set for the process, besides the test's own.</param>
    public IarProcess(string[] arguments, string[]? launcher = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string[] command = [.. launcher ?? [], "dotnet", Iar, .. arguments];
        var psi = new ProcessStartInfo(command[0], command[1..]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (output) return output.ToString(); } }

    public bool HasExited => process.HasExited;

    public int Id => process.Id;

    /// <summary>The exit code; a process still running after <paramref name="limit"/> (4 minutes by default) is killed first.</summary>
    public int WaitForExit(TimeSpan? limit = null)
    {
        if (!process.WaitForExit(limit ?? TimeSpan.FromMinutes(4))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Waits until <paramref name="folder"/> holds a checkpoint, then kills the process (SIGKILL).</summary>
    public void KillWhenCheckpointIn(string folder)
    {
        WaitUntil(() => Directory.Exists(folder) && Directory.GetFiles(folder, "step-*.safetensors").Length > 0, $"a checkpoint in {folder}");
        process.Kill(entireProcessTree: true);   // SIGKILL: no handler runs, nothing is flushed
        process.WaitForExit();
    }

    /// <summary>Polls <paramref name="condition"/> while the process runs (4 minutes at most).</summary>
    public void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        while (!condition())
        {
            Assert.False(process.HasExited, $"iar exited before {what}:\n{Output}");
            Assert.True(DateTime.UtcNow < deadline, $"no {what} after 4 minutes:\n{Output}");
            Thread.Sleep(5);
        }
    }

    /// <summary>Sends a signal by number: SIGTERM (15) or SIGINT (2) as Slurm, Kubernetes, timeout or Ctrl-C would, SIGSTOP (19) / SIGCONT (18).</summary>
    public void Signal(int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>
    /// Freezes the process (SIGSTOP), runs <paramref name="whileStopped"/>, sends <paramref name="signal"/> and lets the
    /// process go on (SIGCONT): the signal then arrives at a point the test has seen, not after a race with a fast job.
    /// </summary>
    public void SignalWhileStopped(int signal, Action whileStopped)
    {
        Signal(19);
        whileStopped();
        Signal(signal);
        Signal(18);
    }

    public void Dispose() => process.Dispose();
}
