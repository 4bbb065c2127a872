using System.Text.Json;

namespace IAR.Host.Experiments;

/// <summary>
/// A metrics.jsonl: one JSON object per line (stage, arm, seed, step, wall time, every loss term, learning rate,
/// evaluation results). Each line is flushed as it is written, so a killed run loses at most the line in flight.
/// </summary>
public sealed class MetricsLog(string path)
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = false };
    readonly object gate = new();

    public string Path { get; } = path;

    public void Append(IReadOnlyDictionary<string, object?> record)
    {
        var line = JsonSerializer.Serialize(record, Options);
        lock (gate)
        {
            using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
            using var writer = new StreamWriter(stream);
            writer.WriteLine(line);
        }
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
        var records = new List<JsonElement>(new MetricsLog(System.IO.Path.Combine(runDirectory, RunDirectory.MetricsFile)).ReadAll());
        var arms = System.IO.Path.Combine(runDirectory, "arms");
        if (Directory.Exists(arms))
            foreach (var file in Directory.GetFiles(arms, RunDirectory.MetricsFile, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
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
