using IAR.Abstractions;
using TorchSharp;

namespace IAR.Bench;

/// <summary>
/// VAR-S scale-by-scale sampling speed, with and without the KV cache, with guidance (the batch is doubled) and
/// without; and the same including the VQVAE-S decode to images.
/// </summary>
public sealed class VarGenerationBenchmark : IBenchmark
{
    public string Name => "var-generate";

    public string Description => "VAR-S + VQVAE-S (32 px, 6 scales, L = 130) sampling images/s: KV cache vs full recompute, cfg 1 and 1.5.";

    public void Run(BenchReport report)
    {
        var (tokenizer, generator) = VarSmallModels.Build();
        tokenizer.Module.eval();
        generator.Module.eval();
        const int batch = 32;
        using var labels = torch.arange(batch, dtype: torch.ScalarType.Int64) % VarSmallModels.NumClasses;
        foreach (double cfg in new[] { 1.0, 1.5 })
            foreach (bool cache in new[] { true, false })
            {
                var options = new SamplingOptions(CfgScale: cfg, TopK: 600, UseKvCache: cache);
                var seconds = BenchReport.Time(() =>
                {
                    using var scope = torch.NewDisposeScope();
                    using var g = new torch.Generator(1);
                    generator.Generate(labels, options, g);
                }, repeats: 5);
                var context = VarSmallModels.Context(tokenizer, generator, batch);
                context["cfg"] = cfg;
                context["kv_cache"] = cache;
                report.Add($"tokens, cfg {cfg}, {(cache ? "kv cache" : "recompute")}", seconds.Select(s => batch / s).ToArray(), "images/s", context);
            }
        var decode = BenchReport.Time(() =>
        {
            using var scope = torch.NewDisposeScope();
            using var g = new torch.Generator(1);
            tokenizer.Decode(generator.Generate(labels, new SamplingOptions(CfgScale: 1.5, TopK: 600), g));
        }, repeats: 5);
        report.Add("images (tokens + decode), cfg 1.5, kv cache", decode.Select(s => batch / s).ToArray(), "images/s",
            VarSmallModels.Context(tokenizer, generator, batch));
    }
}
