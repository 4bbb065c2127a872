using System.Text.Json;
using IAR.Host.Serialization;

namespace IAR.Host.Runs;

/// <summary>
/// A metrics.jsonl: one JSON object per line (stage, arm, seed, step, wall time, every loss term, learning rate,
/// evaluation results). Each line is flushed as it is written, so a killed run loses at most the line in flight.
/// Every numeric value is also written as a TensorBoard scalar (tag <c>stage/key</c>, e.g. <c>generator/loss</c>,
/// <c>eval/fid</c>) into <c>tensorboard/&lt;arm or stage&gt;/seed-&lt;seed&gt;/events.out.tfevents.*</c> beside the
/// file, so <c>tensorboard --logdir RUN/tensorboard</c> compares arms and seeds as runs.
/// </summary>
/// <param name="tensorBoard">Write the TensorBoard event files too.</param>
/// <param name="runDirectory">Where <c>tensorboard/</c> goes: the run folder (a job's metrics.jsonl lives in its own
/// folder, its events with every other job's); null = beside the file.</param>
public sealed class MetricsLog(string path, bool tensorBoard = true, string? runDirectory = null)
{
    /// <summary>The folder of event files beside metrics.jsonl.</summary>

    static readonly JsonSerializerOptions Options = new() { WriteIndented = false };
    static readonly HashSet<string> IdentityKeys = ["stage", "arm", "seed", "step"];
    readonly object gate = new();
    readonly Dictionary<string, TensorBoardEvents> writers = new(StringComparer.Ordinal);

    public string Path { get; } = path;

    /// <summary>The TensorBoard run folder of an arm (or of a stage without arms, e.g. the tokenizer) and seed in a run directory.</summary>
    public static string TensorBoardFolder(string runDirectory, string armOrStage, long seed) =>
        System.IO.Path.Combine(runDirectory, RunLayout.TensorBoardFolder, armOrStage, $"seed-{seed}");

    public void Append(IReadOnlyDictionary<string, object?> record)
    {
        var line = JsonSerializer.Serialize(record, Options);
        lock (gate)
        {
            using (var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read))
            using (var writer = new StreamWriter(stream))
                writer.WriteLine(line);
            if (tensorBoard) WriteScalars(record);
        }
    }

    void WriteScalars(IReadOnlyDictionary<string, object?> record)
    {
        var stage = record.TryGetValue("stage", out var s) ? s?.ToString() ?? "run" : "run";
        var run = record.TryGetValue("arm", out var a) && a is not null ? a.ToString()! : stage;
        long seed = record.TryGetValue("seed", out var sd) && sd is IConvertible seedValue ? seedValue.ToInt64(System.Globalization.CultureInfo.InvariantCulture) : 0;
        long step = record.TryGetValue("step", out var st) && st is IConvertible stepValue ? stepValue.ToInt64(System.Globalization.CultureInfo.InvariantCulture) : 0;
        var scalars = record.Where(kv => !IdentityKeys.Contains(kv.Key) && kv.Value is double or float or int or long)
            .Select(kv => new KeyValuePair<string, double>($"{stage}/{kv.Key}", Convert.ToDouble(kv.Value, System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        if (scalars.Count == 0) return;
        var folder = TensorBoardFolder(runDirectory ?? System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!, run, seed);
        if (!writers.TryGetValue(folder, out var events)) writers[folder] = events = new TensorBoardEvents(folder);
        events.Scalars(step, scalars);
    }

    /// <summary>Every record, in order (a torn last line from a killed run is skipped).</summary>
    public IReadOnlyList<JsonElement> ReadAll()
    {
        if (!File.Exists(Path)) return [];
        var records = new List<JsonElement>();
        foreach (var line in File.ReadLines(Path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                records.Add(doc.RootElement.Clone());
            }
            catch (JsonException)
            {
                // a line cut short by a kill; the run resumes from a checkpoint and rewrites what followed it
            }
        }
        return records;
    }

    /// <summary>
    /// Every record of a run folder: prepare's <c>metrics.jsonl</c>, then each job's (<c>arms/&lt;arm&gt;/seed-&lt;s&gt;/metrics.jsonl</c>)
    /// in path order. Jobs write only their own file, so processes sharing the folder never rewrite each other's lines.
    /// </summary>
    public static IReadOnlyList<JsonElement> ReadRun(string runDirectory)
    {
        var records = new List<JsonElement>(new MetricsLog(System.IO.Path.Combine(runDirectory, RunLayout.MetricsFile)).ReadAll());
        var arms = System.IO.Path.Combine(runDirectory, "arms");
        if (Directory.Exists(arms))
            foreach (var file in Directory.GetFiles(arms, RunLayout.MetricsFile, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                records.AddRange(new MetricsLog(file).ReadAll());
        return records;
    }

    /// <summary>Drops records matching <paramref name="drop"/> (e.g. steps after the checkpoint a run resumes from).</summary>
    public void RemoveWhere(Func<JsonElement, bool> drop)
    {
        lock (gate)
        {
            var kept = ReadAll().Where(r => !drop(r)).Select(r => r.GetRawText()).ToList();
            Serialization.AtomicFile.WriteAllText(Path, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
        }
    }
}
