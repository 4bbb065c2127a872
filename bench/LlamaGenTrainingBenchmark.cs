using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Native;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// One LlamaGen GPT training step as the trainer takes it with the defaults (forward, token cross-entropy, backward,
/// global-norm clipping, the host's AdamW) in tokens/s and model FLOP/s (6 × parameters × tokens), against the fp32
/// 1024² GEMM limit of <see cref="MatmulPeakBenchmark"/> measured between the training measurements of the same run.
/// </summary>
public sealed class LlamaGenTrainingBenchmark : IBenchmark
{
    const int Batch = 64;
    const int PeakSide = 1024;

    public string Name => "llamagen-train";

    public bool ComparesMklPaths => true;

    public string Description => "GPT-S training step, batch 64 × 64 tokens, vocab 1024, dropout 0.1 and 0: tokens/s, model GFLOP/s, % of the fp32 GEMM limit.";

    public void Run(BenchReport report)
    {
        var defaults = new TrainingSpec();
        var peak = new List<double>();
        var cpuPeak = new List<double>();
        MeasurePeak(peak, cpuPeak);
        foreach (double dropout in new[] { 0.1, 0.0 })
        {
            var gpt = LlamaGenBenchModels.Gpt(dropout);
            gpt.Module.train();
            long parameters = gpt.Module.parameters().Sum(p => p.numel());
            int length = gpt.Info.Layout.SequenceLength;
            var batch = LlamaGenBenchModels.RandomBatch(gpt, Batch);
            using var optimizer = new AdamW(gpt.Module.named_parameters().Select(p => (p.name, p.parameter)), defaults.Beta1, defaults.Beta2, defaults.WeightDecay);
            var Step = LlamaGenBenchModels.TrainStep(gpt, optimizer, batch, defaults.GradClip);

            var seconds = BenchReport.Time(Step, repeats: 9, warmup: 2);
            var cpuSeconds = LlamaGenBenchModels.SingleThreadCpuSeconds(Step, repeats: 3);
            MeasurePeak(peak, cpuPeak);

            double tokens = Batch * length;
            var context = LlamaGenBenchModels.Context(gpt);
            context["batch"] = Batch;
            context["dropout"] = dropout;
            context["parameters"] = parameters;
            context["mkl_vendor_path"] = MklVendorPath.Active;
            string tag = $"dropout {dropout:0.0}";
            report.Add($"train step ({tag})", seconds, "s", context);
            report.Add($"train tokens/s ({tag})", seconds.Select(s => tokens / s).ToArray(), "tokens/s", context);
            var gflops = seconds.Select(s => 6.0 * parameters * tokens / s / 1e9).ToArray();
            report.Add($"model GFLOP/s ({tag})", gflops, "GFLOP/s", context);
            report.Add($"% of GEMM limit ({tag})", 100 * BenchReport.Median(gflops) / BenchReport.Median(peak), "%", context);
            var cpuGflops = cpuSeconds.Select(s => 6.0 * parameters * tokens / s / 1e9).ToArray();
            report.Add($"1-thread cpu: model GFLOP/s ({tag})", cpuGflops, "GFLOP/s", context);
            report.Add($"1-thread cpu: % of GEMM limit ({tag})", 100 * BenchReport.Median(cpuGflops) / BenchReport.Median(cpuPeak), "%", context);
        }
        var peakContext = new Dictionary<string, object> { ["threads"] = torch.get_num_threads(), ["mkl_vendor_path"] = MklVendorPath.Active };
        report.Add($"fp32 GEMM limit {PeakSide}² (same run)", peak, "GFLOP/s", peakContext);
        report.Add($"1-thread cpu: fp32 GEMM limit {PeakSide}² (same run)", cpuPeak, "GFLOP/s", peakContext);
    }

    /// <summary>
    /// GEMM GFLOP/s sampled before and after each training measurement so that both see the same machine load: wall
    /// time on libtorch's threads, and single-thread CPU time (one sample = ten in-place 1024² matmuls).
    /// </summary>
    static void MeasurePeak(List<double> wall, List<double> cpu)
    {
        wall.AddRange(MatmulPeakBenchmark.Gflops(PeakSide, ScalarType.Float32, samples: 5));
        using var a = torch.randn(PeakSide, PeakSide);
        using var b = torch.randn(PeakSide, PeakSide);
        using var c = torch.empty(PeakSide, PeakSide);
        const int calls = 10;
        cpu.AddRange(LlamaGenBenchModels.SingleThreadCpuSeconds(() =>
        {
            for (int i = 0; i < calls; i++) c.addmm_(a, b, beta: 0, alpha: 1);
        }, repeats: 3).Select(s => 2.0 * PeakSide * PeakSide * PeakSide * calls / s / 1e9));
    }
}
