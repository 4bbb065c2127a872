using IAR.Host.Runs;
using System.Text.Json;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;

namespace IAR.Host.Reporting;

/// <summary>
/// The records of a run's metrics.jsonl files (prepare's and every job's), split into generator-training and evaluation points. When a step of an
/// arm and seed appears twice (a resumed run that re-logged it), the later record wins.
/// </summary>
public sealed class RunRecords
{
    RunRecords(IReadOnlyList<MetricPoint> training, IReadOnlyList<MetricPoint> evaluations)
    {
        Training = training;
        Evaluations = evaluations;
    }

    /// <summary>Generator training records (stage "generator"), by arm, seed, step.</summary>
    public IReadOnlyList<MetricPoint> Training { get; }

    /// <summary>Evaluation records (stage "eval"), by arm, seed, step.</summary>
    public IReadOnlyList<MetricPoint> Evaluations { get; }

    /// <summary>Arms in order of first appearance.</summary>
    public IReadOnlyList<string> Arms => Training.Concat(Evaluations).Select(p => p.Arm).Distinct().ToArray();

    /// <exception cref="InvalidDataException">A record lacks arm, seed or step, or has them of the wrong type.</exception>
    public static RunRecords Read(string runDirectory) => FromRecords(MetricsLog.ReadRun(runDirectory), runDirectory);

    public static RunRecords FromRecords(IEnumerable<JsonElement> records, string source)
    {
        var training = new Dictionary<(string, int, long), MetricPoint>();
        var evaluations = new Dictionary<(string, int, long), MetricPoint>();
        int line = 0;
        foreach (var record in records)
        {
            line++;
            if (record.ValueKind != JsonValueKind.Object) continue;
            var stage = record.TryGetProperty(MetricNames.Stage, out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var target = stage switch
            {
                MetricNames.GeneratorStage => training,
                MetricNames.EvaluationStage => evaluations,
                _ => null,                                                   // tokenizer training and other stages are not plotted
            };
            if (target is null) continue;
            var point = Parse(record, source, line);
            target[(point.Arm, point.Seed, point.Step)] = point;
        }
        static MetricPoint[] Ordered(Dictionary<(string, int, long), MetricPoint> points) =>
            points.Values.OrderBy(p => p.Arm, StringComparer.Ordinal).ThenBy(p => p.Seed).ThenBy(p => p.Step).ToArray();
        return new RunRecords(Ordered(training), Ordered(evaluations));
    }

    static MetricPoint Parse(JsonElement record, string source, int index)
    {
        string arm = record.TryGetProperty(MetricNames.Arm, out var a) && a.ValueKind == JsonValueKind.String
            ? a.GetString()!
            : throw new InvalidDataException($"{source}: record {index} has no string 'arm'.");
        int seed = record.TryGetProperty(MetricNames.Seed, out var s) && s.TryGetInt32(out var sv)
            ? sv
            : throw new InvalidDataException($"{source}: record {index} has no integer 'seed'.");
        long step = record.TryGetProperty(MetricNames.Step, out var t) && t.TryGetInt64(out var tv)
            ? tv
            : throw new InvalidDataException($"{source}: record {index} has no integer 'step'.");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var property in record.EnumerateObject())
            if (property.Value.ValueKind == JsonValueKind.Number && property.Name is not (MetricNames.Seed or MetricNames.Step))
                values[property.Name] = property.Value.GetDouble();
        return new MetricPoint(arm, seed, step, values);
    }
}

/// <summary>One metrics.jsonl record reduced to what the report plots: who, when, and every numeric value by key.</summary>
public sealed record MetricPoint(string Arm, int Seed, long Step, IReadOnlyDictionary<string, double> Values);
