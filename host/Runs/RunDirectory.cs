using IAR.Host.Experiments;
using System.Text.Json;
using System.Text.RegularExpressions;
using IAR.Abstractions;
using IAR.Host.Serialization;

namespace IAR.Host.Runs;

/// <summary>
/// A run's folder, <c>runs/NNN-&lt;name&gt;/</c>: <c>config.yaml</c> (the resolved experiment), <c>run.log</c>,
/// <c>metrics.jsonl</c> (prepare's lines; each job has its own in its folder), <c>status.json</c>, and whatever the
/// recipe's steps write. An unfinished run of the same resolved config is resumed rather than started again, unless
/// <c>--fresh</c>. Several processes may share one folder (local workers, Slurm array tasks): prepare and each job run
/// under a lock file, every job writes only into its own folder, and status files are replaced atomically.
/// </summary>
public sealed class RunDirectory
{
    RunDirectory(string path, bool resumed)
    {
        Path = path;
        Resumed = resumed;
    }

    public string Path { get; }

    /// <summary>True when an earlier, unfinished run in this folder is continued.</summary>
    public bool Resumed { get; }

    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    /// <summary>Opens the folder for <paramref name="experiment"/> and writes its config.</summary>
    /// <param name="runsRoot">Parent of the numbered run folders.</param>
    /// <param name="explicitDir">Use exactly this folder (resumed if it holds the same config).</param>
    /// <param name="fresh">Never resume: always a new numbered folder.</param>
    /// <exception cref="ConfigurationException">An explicit folder holds a run of a different config.</exception>
    /// <exception cref="IOException">The folder cannot be created or written.</exception>
    public static RunDirectory Open(string runsRoot, Experiment experiment, bool fresh, string? explicitDir = null)
    {
        RunDirectory run;
        if (explicitDir is not null)
        {
            var dir = System.IO.Path.GetFullPath(explicitDir);
            var existing = System.IO.Path.Combine(dir, RunLayout.ConfigFile);
            bool resumed = System.IO.File.Exists(existing) && !fresh;
            if (resumed && System.IO.File.ReadAllText(existing) != experiment.ResolvedYaml)
                throw new ConfigurationException(
                    $"Run directory {dir} holds a run of a different configuration; choose another --run-dir or drop it to start a numbered one.");
            if (fresh && Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
                throw new ConfigurationException($"--fresh with --run-dir {dir}: the folder is not empty; choose an empty or new folder.");
            run = new RunDirectory(dir, resumed);
        }
        else
        {
            var root = System.IO.Path.GetFullPath(runsRoot);
            Directory.CreateDirectory(root);
            // Processes started together (workers, array tasks) must pick the same folder, not number one each.
            using var choosing = HoldLockFile(System.IO.Path.Combine(root, RunLayout.LockFile), wait: true)!;
            var resumable = fresh ? null : FindResumable(root, experiment);
            run = resumable is not null ? new RunDirectory(resumable, true) : new RunDirectory(CreateNumbered(root, experiment.Spec.Name), false);
        }
        try
        {
            Directory.CreateDirectory(run.Path);
            AtomicFile.WriteAllText(run.File(RunLayout.ConfigFile), experiment.ResolvedYaml);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"Run directory {run.Path} cannot be written: {e.Message}", e);
        }
        return run;
    }

    /// <summary>The newest numbered folder of this experiment whose config matches and which did not complete.</summary>
    static string? FindResumable(string root, Experiment experiment)
    {
        if (!Directory.Exists(root)) return null;
        foreach (var (dir, _, _) in Numbered(root).Where(d => d.Name == experiment.Spec.Name).OrderByDescending(d => d.Number))
        {
            var config = System.IO.Path.Combine(dir, RunLayout.ConfigFile);
            if (!System.IO.File.Exists(config) || System.IO.File.ReadAllText(config) != experiment.ResolvedYaml) continue;
            return ReadStatus(dir)?.State == RunState.Complete ? null : dir;
        }
        return null;
    }

    static string CreateNumbered(string root, string name)
    {
        try
        {
            Directory.CreateDirectory(root);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"Runs folder {root} cannot be created: {e.Message}", e);
        }
        int next = Numbered(root).Select(d => d.Number).DefaultIfEmpty(0).Max() + 1;
        while (true)
        {
            var dir = System.IO.Path.Combine(root, $"{next:D3}-{name}");
            if (!Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir);
                return dir;
            }
            next++;
        }
    }

    static IEnumerable<(string Dir, int Number, string Name)> Numbered(string root) =>
        Directory.GetDirectories(root)
            .Select(d => (Dir: d, Match: Regex.Match(System.IO.Path.GetFileName(d), "^([0-9]+)-(.+)$")))
            .Where(x => x.Match.Success)
            .Select(x => (x.Dir, int.Parse(x.Match.Groups[1].Value), x.Match.Groups[2].Value));

    public RunStatus? Status => ReadStatus(Path);

    public void WriteStatus(RunState state, string? stage = null, string? message = null) =>
        WriteStatus(Path, state, stage, message);

    /// <summary>The status of the job whose folder is <paramref name="jobFolder"/> (relative to the run folder).</summary>
    public RunStatus? JobStatus(string jobFolder) => ReadStatus(File(jobFolder));

    public void WriteJobStatus(string jobFolder, RunState state, string? message = null)
    {
        Directory.CreateDirectory(File(jobFolder));
        WriteStatus(File(jobFolder), state, null, message);
    }

    static void WriteStatus(string dir, RunState state, string? stage, string? message) =>
        AtomicFile.WriteAllText(System.IO.Path.Combine(dir, RunLayout.StatusFile), JsonSerializer.Serialize(
            new RunStatus(state, stage, message, DateTimeOffset.UtcNow), RunStatus.JsonOptions));

    /// <summary>
    /// Holds <c>.lock</c> in <paramref name="relativeFolder"/> of the run folder until disposed. The lock is the
    /// kernel's (flock, through .NET's FileShare.None), so a process that dies, even by kill -9, releases it.
    /// </summary>
    /// <param name="wait">Wait for another holder to finish (prepare) instead of returning null (a job taken elsewhere).</param>
    public IDisposable? Lock(string relativeFolder, bool wait)
    {
        var folder = File(relativeFolder);
        Directory.CreateDirectory(folder);
        return HoldLockFile(System.IO.Path.Combine(folder, RunLayout.LockFile), wait);
    }

    /// <summary>Whether a process holds <c>.lock</c> in <paramref name="folder"/> (a job that is running somewhere).</summary>
    public static bool IsLocked(string folder)
    {
        if (!System.IO.File.Exists(System.IO.Path.Combine(folder, RunLayout.LockFile))) return false;
        using var probe = HoldLockFile(System.IO.Path.Combine(folder, RunLayout.LockFile), wait: false);
        return probe is null;
    }

    static IDisposable? HoldLockFile(string path, bool wait)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (System.IO.File.Exists(path))
            {
                if (!wait) return null;
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>The status.json of a run folder or job folder; null when there is none or it cannot be read.</summary>
    public static RunStatus? ReadStatus(string dir)
    {
        var file = System.IO.Path.Combine(dir, RunLayout.StatusFile);
        if (!System.IO.File.Exists(file)) return null;
        try
        {
            return JsonSerializer.Deserialize<RunStatus>(System.IO.File.ReadAllText(file), RunStatus.JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
