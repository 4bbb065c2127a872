using IAR.Abstractions;
using TorchSharp;

namespace IAR.Bench;

/// <summary>
/// One AdamW step of VQVAE-S and of VAR-S at batch 64 on 32 px images: the sizing check for the quickstart
/// (a few hundred steps of each should take minutes on 2 cores). CPU time per step (all threads) is reported too: on
/// a shared machine it is steadier than wall time, and on an idle one wall ≈ CPU time / threads.
/// </summary>
public sealed class VarTrainingStepBenchmark : IBenchmark
{
    public string Name => "var-train-step";

    public string Description => "VQVAE-S and VAR-S training step time (AdamW, batch 64, 1×32×32, 10 classes).";

    public void Run(BenchReport report)
    {
        var (tokenizer, generator) = VarSmallModels.Build();
        const int batch = 64;
        using var g = new torch.Generator(7);
        using var images = torch.rand([batch, 1, 32, 32], generator: g) * 2 - 1;
        using var labels = torch.randint(0, VarSmallModels.NumClasses, [batch], generator: g, dtype: torch.ScalarType.Int64);

        tokenizer.Module.train();
        var process = System.Diagnostics.Process.GetCurrentProcess();
        double CpuSeconds() { process.Refresh(); return process.TotalProcessorTime.TotalSeconds; }
        using var tokenizerOptimizer = torch.optim.AdamW(tokenizer.Module.parameters(), lr: 1e-4);
        var tokenizerCpu = new List<double>();
        var tokenizerStep = BenchReport.Time(() =>
        {
            double cpu = CpuSeconds();
            using var scope = torch.NewDisposeScope();
            tokenizerOptimizer.zero_grad();
            var output = tokenizer.Reconstruct(images);
            var loss = tokenizer.TrainingLossTerms.Select(t => t.Compute(images, output) * t.Weight).Aggregate((a, b) => a + b);
            loss.backward();
            tokenizerOptimizer.step();
            tokenizerCpu.Add(CpuSeconds() - cpu);
        }, repeats: 5);
        report.Add("VQVAE-S train step", tokenizerStep, "s", VarSmallModels.Context(tokenizer, generator, batch));
        report.Add("VQVAE-S train step CPU time", tokenizerCpu.Skip(1).ToArray(), "cpu-s", VarSmallModels.Context(tokenizer, generator, batch));

        tokenizer.Module.eval();
        using var tokens = tokenizer.Encode(images);
        generator.Module.train();
        using var generatorOptimizer = torch.optim.AdamW(generator.Module.parameters(), lr: 1e-4);
        var generatorCpu = new List<double>();
        var generatorStep = BenchReport.Time(() =>
        {
            double cpu = CpuSeconds();
            using var scope = torch.NewDisposeScope();
            generatorOptimizer.zero_grad();
            var output = generator.Forward(new TokenBatch(tokens, labels));
            var loss = torch.nn.functional.cross_entropy(output.Logits.reshape(-1, generator.Info.VocabularySize), output.Targets.reshape(-1));
            loss.backward();
            generatorOptimizer.step();
            generatorCpu.Add(CpuSeconds() - cpu);
        }, repeats: 5);
        report.Add("VAR-S train step", generatorStep, "s", VarSmallModels.Context(tokenizer, generator, batch));
        report.Add("VAR-S train step CPU time", generatorCpu.Skip(1).ToArray(), "cpu-s", VarSmallModels.Context(tokenizer, generator, batch));
        report.Add("VAR-S train tokens/s", generatorStep.Select(s => batch * tokens.shape[1] / s).ToArray(), "tokens/s",
            VarSmallModels.Context(tokenizer, generator, batch));
    }
}
