using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace IAR.Bench;

/// <summary>
/// Collects measures and prints them: a table for people and one JSON line per measure for scripts
/// (<c>{"bench": …, "measure": …, "median": …, "unit": …, "n": …, "min": …, "max": …, …context}</c>).
/// </summary>
public sealed class BenchReport(string bench)
{
    readonly List<(string Measure, double Median, string Unit, int N, double Min, double Max, IReadOnlyDictionary<string, object> Context)> rows = [];

    /// <summary>Times <paramref name="action"/> <paramref name="repeats"/> times after <paramref name="warmup"/> runs; returns seconds per run.</summary>
    public static double[] Time(Action action, int repeats, int warmup = 1)
    {
        for (int i = 0; i < warmup; i++) action();
        var seconds = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            seconds[i] = watch.Elapsed.TotalSeconds;
        }
        return seconds;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Records a measure from repeated samples (the median is reported).</summary>
    public void Add(string measure, IReadOnlyList<double> samples, string unit, IReadOnlyDictionary<string, object>? context = null) =>
        rows.Add((measure, Median(samples), unit, samples.Count, samples.Min(), samples.Max(), context ?? new Dictionary<string, object>()));

    /// <summary>Records a measure already summarised elsewhere (another process's JSON line).</summary>
    public void Add(string measure, double median, int n, double min, double max, string unit, IReadOnlyDictionary<string, object> context) =>
        rows.Add((measure, median, unit, n, min, max, context));

    /// <summary>Records a single derived value (n = 1).</summary>
    public void Add(string measure, double value, string unit, IReadOnlyDictionary<string, object>? context = null) =>
        Add(measure, [value], unit, context);

    public void Print(TextWriter output)
    {
        output.WriteLine($"## {bench}");
        int width = Math.Max(8, rows.Select(r => r.Measure.Length).DefaultIfEmpty(8).Max());
        output.WriteLine($"{"measure".PadRight(width)}  {"median",12}  {"unit",-10} {"n",3}  {"min",12}  {"max",12}");
        foreach (var r in rows)
            output.WriteLine($"{r.Measure.PadRight(width)}  {Format(r.Median),12}  {r.Unit,-10} {r.N,3}  {Format(r.Min),12}  {Format(r.Max),12}");
        foreach (var r in rows)
        {
            var json = new Dictionary<string, object>
            {
                ["bench"] = bench, ["measure"] = r.Measure, ["median"] = r.Median, ["unit"] = r.Unit,
                ["n"] = r.N, ["min"] = r.Min, ["max"] = r.Max,
            };
            foreach (var (k, v) in r.Context) json[k] = v;
            output.WriteLine(JsonSerializer.Serialize(json));
        }
    }

    static string Format(double v) => v.ToString(Math.Abs(v) >= 1000 ? "N0" : "G4", CultureInfo.InvariantCulture);
}
