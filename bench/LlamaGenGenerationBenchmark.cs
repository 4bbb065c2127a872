using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>LlamaGen sampling with the KV cache against recomputing the whole prefix at every step.</summary>
public sealed class LlamaGenGenerationBenchmark : IBenchmark
{
    const int Batch = 32;
    const double Cfg = 2.0;

    public string Name => "llamagen-generate";

    public string Description => "GPT-S, batch 32, 64 tokens (8×8), cfg 2: tokens/s with the KV cache vs full recompute.";

    public void Run(BenchReport report)
    {
        var gpt = LlamaGenBenchModels.Gpt(dropout: 0.1);
        gpt.Module.eval();
        var labels = torch.arange(Batch, dtype: ScalarType.Int64) % LlamaGenBenchModels.Classes;
        int length = gpt.Info.Layout.SequenceLength;
        var context = LlamaGenBenchModels.Context(gpt);
        context["batch"] = Batch;
        context["cfg"] = Cfg;

        void Generate(bool cache)
        {
            using var scope = torch.NewDisposeScope();
            using var rng = new torch.Generator(1);
            gpt.Generate(labels, new SamplingOptions(CfgScale: Cfg, UseKvCache: cache), rng);
        }

        double tokens = Batch * length;
        foreach (var (clock, measure) in new (string, Func<bool, int, double[]>)[]
                 {
                     ("wall", (cache, n) => BenchReport.Time(() => Generate(cache), n)),
                     ("1-thread cpu", (cache, n) => LlamaGenBenchModels.SingleThreadCpuSeconds(() => Generate(cache), n)),
                 })
        {
            var cached = measure(true, 5);
            var recomputed = measure(false, 2);
            var tagged = new Dictionary<string, object>(context) { ["clock"] = clock };
            report.Add($"kv cache: tokens/s ({clock})", cached.Select(s => tokens / s).ToArray(), "tokens/s", tagged);
            report.Add($"full recompute: tokens/s ({clock})", recomputed.Select(s => tokens / s).ToArray(), "tokens/s", tagged);
            report.Add($"kv cache speed-up ({clock})", BenchReport.Median(recomputed) / BenchReport.Median(cached), "x", tagged);
        }
    }
}
