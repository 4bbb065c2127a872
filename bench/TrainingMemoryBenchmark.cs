using System.Diagnostics;
using IAR.Host.Training;

namespace IAR.Bench;

/// <summary>
/// Whether training leaks: the resident set size after 1000 GPT-S training steps against after step 100 (every
/// step runs in a dispose scope; a leaked tensor per step would grow RSS by megabytes per hundred steps).
/// </summary>
public sealed class TrainingMemoryBenchmark : IBenchmark
{
    public string Name => "training-memory";

    public string Description => "RSS of GPT-S generator training (batch 32, 8x8 tokens, V 1024) at steps 100…1000; target: ≤ 2% growth.";

    public void Run(BenchReport report)
    {
        using var setup = new TrainingBenchSetup();
        var rss = new SortedDictionary<long, double>();
        var (_, objective, settings) = setup.Job("memory", steps: 1000, batchSize: 32, step =>
        {
            using var self = Process.GetCurrentProcess();
            rss[step] = self.WorkingSet64 / 1048576.0;
        });
        new Trainer(settings).Run(objective);
        foreach (var (step, mib) in rss) report.Add($"RSS at step {step}", mib, "MiB");
        double growth = (rss[1000] - rss[100]) / rss[100] * 100;
        report.Add("RSS growth 100 → 1000", growth, "%", new Dictionary<string, object> { ["target"] = "<= 2" });
    }
}
