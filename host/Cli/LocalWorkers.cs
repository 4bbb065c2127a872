using IAR.Host.Runs;
using System.Diagnostics;
using System.Runtime.InteropServices;
using IAR.Host.Experiments;
using IAR.Host.Recipes;

namespace IAR.Host.Cli;

/// <summary>What a worker process is started with: the parent's own experiment arguments, so it resolves the same run.</summary>
public sealed record WorkerArguments(
    string File, IReadOnlyList<string> Overrides, CommandLineSweep Sweep, IReadOnlyList<string> Plugins, IReadOnlyList<string> Arms, IReadOnlyList<string> Jobs,
    string? LibTorch, bool Verbose);

/// <summary>
/// <c>iar run FILE --workers N</c>: prepare once in this process, then N processes (<c>iar run … --worker I</c>) each
/// take jobs from the run folder — a job is taken by locking its folder — until none is left; then the report.
/// A job's result does not depend on which process trains it (its seed, data order and initial weights come from the
/// job alone), so the weights and the report equal a sequential run's with the same thread count. Each worker uses
/// cores / N libtorch threads unless the experiment sets <c>threads:</c> (<see cref="ThreadShare"/>).
/// </summary>
public static class LocalWorkers
{
    public static int Run(Experiment experiment, RunEnvironment env, int count, IReadOnlyList<string> devices, WorkerArguments args,
        StopSignals signals)
    {
        // Prepare here first, so that workers only load its files instead of queueing on the lock.
        AblationRecipe.PrepareOnce(experiment, env).Dispose();

        var processes = new List<Process>();
        signals.Stopping += signal =>
        {
            lock (processes)
                foreach (var p in processes.Where(p => !p.HasExited)) SendSignal(p.Id, signal);
        };
        try
        {
            for (int i = 0; i < count; i++)
            {
                var device = devices.Count > 0 ? devices[i % devices.Count] : null;
                var start = StartInfo(args, env.Run.Path, i, count, device);
                var process = Process.Start(start) ?? throw new IOException($"Could not start worker {i}: {start.FileName}.");
                int id = i;
                // Workers' lines arrive on thread-pool threads; one writer at a time keeps them whole.
                process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (processes) env.Log.Console.Plain.WriteLine($"[worker {id}] {e.Data}"); };
                process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (processes) env.Log.Console.Error.WriteLine($"[worker {id}] {e.Data}"); };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                lock (processes) processes.Add(process);
                env.Log.Info($"   worker {i} started (pid {process.Id}{(device is null ? "" : $", {device}")}); its log: {RunLayout.WorkerLog(i)}");
            }
            foreach (var p in processes) p.WaitForExit();
        }
        finally
        {
            foreach (var p in processes.Where(p => !p.HasExited)) p.Kill(entireProcessTree: true);
        }

        var codes = processes.Select(p => p.ExitCode).ToArray();
        foreach (var p in processes) p.Dispose();
        if (signals.Received is PosixSignal received)
            return received == PosixSignal.SIGTERM ? RunCommand.Terminated : ExitCodes.Interrupted;
        var failed = codes.Select((code, i) => (code, i)).Where(x => x.code != 0).ToArray();
        foreach (var (code, i) in failed) env.Log.Warn($"worker {i} exited with {code}; see {RunLayout.WorkerLog(i)} and `iar status {env.Run.Path}`");
        // The report covers whatever finished, also when a worker failed.
        AblationRecipe.Report(experiment, env);
        return failed.Length == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    static ProcessStartInfo StartInfo(WorkerArguments args, string runDir, int index, int count, string? device)
    {
        // The same program: `dotnet iar.dll` or the apphost, whichever this process is.
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(LocalWorkers).Assembly.Location);
        start.ArgumentList.Add("run");
        start.ArgumentList.Add(args.File);
        foreach (var o in args.Overrides) start.ArgumentList.Add(o);
        foreach (var s in args.Sweep.Arguments()) start.ArgumentList.Add(s);
        void Option(string name, string value)
        {
            start.ArgumentList.Add(name);
            start.ArgumentList.Add(value);
        }
        Option("--run-dir", runDir);
        Option("--worker", index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Option("--worker-count", count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var folder in args.Plugins) Option("--plugins", Path.GetFullPath(folder));
        foreach (var arm in args.Arms) Option("--arms", arm);
        foreach (var job in args.Jobs) Option("--job", job);
        if (device is not null) Option("--device", device);
        if (args.LibTorch is not null) Option("--libtorch", args.LibTorch);
        if (args.Verbose) start.ArgumentList.Add("--verbose");
        return start;
    }

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>Forwards SIGTERM (15) or SIGINT (2) to a worker, which then checkpoints and exits like its parent.</summary>
    static void SendSignal(int pid, PosixSignal signal) => kill(pid, signal == PosixSignal.SIGTERM ? 15 : 2);
}
