using System.Diagnostics;
using IAR.Host.Training;
using TorchSharp;

namespace IAR.Bench;

/// <summary>Training throughput of the small GPT preset (GPT-S) on cached tokens through the shared trainer, per batch size.</summary>
public sealed class TrainingThroughputBenchmark : IBenchmark
{
    public string Name => "training-throughput";

    public string Description => "GPT-S training tokens/s (8x8 tokens, V 1024) at batch 16, 32, 64: medians of 100-step windows after 100 warm-up steps.";

    public void Run(BenchReport report)
    {
        using var setup = new TrainingBenchSetup();
        foreach (int batch in new[] { 16, 32, 64 })
        {
            var seconds = new List<double>();
            var watch = new Stopwatch();
            var (_, objective, settings) = setup.Job($"throughput-{batch}", steps: 500, batchSize: batch, step =>
            {
                if (step > 100) seconds.Add(watch.Elapsed.TotalSeconds);
                watch.Restart();
            });
            new Trainer(settings).Run(objective);
            long tokensPerWindow = 100L * batch * setup.Tokens.SequenceLength;
            report.Add($"GPT-S batch {batch}", seconds.Select(s => tokensPerWindow / s).ToArray(), "tokens/s",
                new Dictionary<string, object> { ["threads"] = torch.get_num_threads(), ["steps_per_s"] = 100 / BenchReport.Median(seconds) });
        }
    }
}
