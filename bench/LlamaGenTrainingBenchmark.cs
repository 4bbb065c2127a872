using IAR.Abstractions;
using IAR.Host.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// One LlamaGen GPT training step (forward, token cross-entropy, backward, TorchSharp AdamW) in tokens/s and model
/// FLOP/s (6 × parameters × tokens), against the fp32 1024² matmul throughput measured in the same run.
/// </summary>
public sealed class LlamaGenTrainingBenchmark : IBenchmark
{
    const int Batch = 64;

    public string Name => "llamagen-train";

    public string Description => "GPT-S training step, batch 64 × 64 tokens, vocab 1024: tokens/s, model GFLOP/s, % of matmul peak.";

    public void Run(BenchReport report)
    {
        var peak = new List<double>();
        MeasurePeak(peak);
        foreach (double dropout in new[] { 0.1, 0.0 })
        {
            var gpt = LlamaGenBenchModels.Gpt(dropout);
            gpt.Module.train();
            long parameters = gpt.Module.parameters().Sum(p => p.numel());
            int length = gpt.Info.Layout.SequenceLength;
            using var rng = new torch.Generator(2);
            var batch = new TokenBatch(
                torch.randint(0, gpt.Info.VocabularySize, [Batch, length], generator: rng, dtype: ScalarType.Int64),
                torch.randint(0, LlamaGenBenchModels.Classes, [Batch], generator: rng, dtype: ScalarType.Int64),
                torch.rand([Batch], generator: rng).lt(0.1));
            var optimizer = torch.optim.AdamW(gpt.Module.parameters(), lr: 1e-4, beta1: 0.9, beta2: 0.95, weight_decay: 0.05);
            var loss = new TokenCrossEntropy();

            void Step()
            {
                using var scope = torch.NewDisposeScope();
                optimizer.zero_grad();
                var output = gpt.Forward(batch);
                loss.Compute(output.Logits, output.Targets).backward();
                optimizer.step();
            }

            var seconds = BenchReport.Time(Step, repeats: 7, warmup: 2);
            MeasurePeak(peak);
            var cpuSeconds = LlamaGenBenchModels.SingleThreadCpuSeconds(Step, repeats: 3);
            var cpuPeak = LlamaGenBenchModels.SingleThreadCpuSeconds(MatmulRound, repeats: 3).Select(s => MatmulRoundFlops / s / 1e9).ToArray();

            double tokens = Batch * length;
            var context = LlamaGenBenchModels.Context(gpt);
            context["batch"] = Batch;
            context["dropout"] = dropout;
            context["parameters"] = parameters;
            string tag = $"dropout {dropout:0.0}";
            report.Add($"train step ({tag})", seconds, "s", context);
            report.Add($"train tokens/s ({tag})", seconds.Select(s => tokens / s).ToArray(), "tokens/s", context);
            var gflops = seconds.Select(s => 6.0 * parameters * tokens / s / 1e9).ToArray();
            report.Add($"model GFLOP/s ({tag})", gflops, "GFLOP/s", context);
            report.Add($"% of matmul peak ({tag})", 100 * BenchReport.Median(gflops) / BenchReport.Median(peak), "%", context);
            var cpuGflops = cpuSeconds.Select(s => 6.0 * parameters * tokens / s / 1e9).ToArray();
            report.Add($"1-thread cpu: model GFLOP/s ({tag})", cpuGflops, "GFLOP/s", context);
            report.Add($"1-thread cpu: matmul peak ({tag})", cpuPeak, "GFLOP/s", context);
            report.Add($"1-thread cpu: % of matmul peak ({tag})", 100 * BenchReport.Median(cpuGflops) / BenchReport.Median(cpuPeak), "%", context);
        }
        report.Add("matmul 1024x1024 peak (same run)", peak, "GFLOP/s", new Dictionary<string, object> { ["threads"] = torch.get_num_threads() });
    }

    const int MatmulSide = 1024, MatmulRepeats = 10;
    const double MatmulRoundFlops = 2.0 * MatmulSide * MatmulSide * MatmulSide * MatmulRepeats;

    /// <summary>Ten fp32 1024² matmuls, the yardstick of the bench <c>matmul</c>.</summary>
    static void MatmulRound()
    {
        using var a = torch.ones(MatmulSide, MatmulSide);
        using var b = torch.ones(MatmulSide, MatmulSide);
        for (int i = 0; i < MatmulRepeats; i++) a.matmul(b).Dispose();
    }

    /// <summary>Matmul GFLOP/s, sampled between the training measurements so both see the same machine load.</summary>
    static void MeasurePeak(List<double> samples) =>
        samples.AddRange(BenchReport.Time(MatmulRound, repeats: 3).Select(s => MatmulRoundFlops / s / 1e9));
}
