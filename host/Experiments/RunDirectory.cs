using System.Text.Json;
using System.Text.RegularExpressions;
using IAR.Abstractions;
using IAR.Host.Serialization;

namespace IAR.Host.Experiments;

/// <summary>
/// A run's folder, <c>runs/NNN-&lt;name&gt;/</c>: <c>config.yaml</c> (the resolved experiment), <c>run.log</c>,
/// <c>metrics.jsonl</c>, <c>status.json</c>, and whatever the stages write. An unfinished run of the same resolved
/// config is resumed rather than started again, unless <c>--fresh</c>.
/// </summary>
public sealed class RunDirectory
{
    public const string ConfigFile = "config.yaml";
    public const string StatusFile = "status.json";
    public const string LogFile = "run.log";
    public const string MetricsFile = "metrics.jsonl";

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
            var existing = System.IO.Path.Combine(dir, ConfigFile);
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
            var resumable = fresh ? null : FindResumable(root, experiment);
            run = resumable is not null ? new RunDirectory(resumable, true) : new RunDirectory(CreateNumbered(root, experiment.Spec.Name), false);
        }
        try
        {
            Directory.CreateDirectory(run.Path);
            AtomicFile.WriteAllText(run.File(ConfigFile), experiment.ResolvedYaml);
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
            var config = System.IO.Path.Combine(dir, ConfigFile);
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
        AtomicFile.WriteAllText(File(StatusFile), JsonSerializer.Serialize(
            new RunStatus(state, stage, message, DateTimeOffset.UtcNow), RunStatus.JsonOptions));

    static RunStatus? ReadStatus(string dir)
    {
        var file = System.IO.Path.Combine(dir, StatusFile);
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
