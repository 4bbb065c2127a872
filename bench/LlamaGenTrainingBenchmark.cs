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
/// 1024² GEMM limit of <see cref="MatmulPeakBenchmark"/> measured between the training measurements of the same run;
/// dropout 0.1 and 0.0 are measured in alternating rounds.
/// </summary>
public sealed class LlamaGenTrainingBenchmark : IBenchmark
{
    const int Batch = 64;
    const int PeakSide = 1024;
    const int Rounds = 5;

    public string Name => "llamagen-train";

    public bool ComparesMklPaths => true;

    public string Description => "GPT-S training step, batch 64 × 64 tokens, vocab 1024, dropout 0.1 and 0: tokens/s, model GFLOP/s, % of the fp32 GEMM limit.";

    public void Run(BenchReport report)
    {
        var defaults = new TrainingSpec();
        var peak = new List<double>();
        var cpuPeak = new List<double>();
        var jobs = new[] { 0.1, 0.0 }.Select(dropout =>
        {
            var gpt = LlamaGenBenchModels.Gpt(dropout);
            gpt.Module.train();
            var batch = LlamaGenBenchModels.RandomBatch(gpt, Batch);
            var optimizer = new AdamW(gpt.Module.named_parameters().Select(p => (p.name, p.parameter)), defaults.Beta1, defaults.Beta2, defaults.WeightDecay);
            return (Dropout: dropout, Gpt: gpt, Optimizer: optimizer, Step: LlamaGenBenchModels.TrainStep(gpt, optimizer, batch, defaults.GradClip),
                Wall: new List<double>(), Cpu: new List<double>());
        }).ToList();

        // Rounds alternate the two models, with the GEMM limit sampled between them, so a slow spell of the machine
        // (other tenants) falls on both and on the limit alike rather than on one block of measurements.
        MeasurePeak(peak, cpuPeak);
        for (int round = 0; round < Rounds; round++)
        {
            foreach (var job in jobs)
            {
                job.Wall.AddRange(BenchReport.Time(job.Step, repeats: 3, warmup: round == 0 ? 2 : 1));   // a step after the 1-thread measurement re-warms the 2-thread pool
                job.Cpu.AddRange(LlamaGenBenchModels.SingleThreadCpuSeconds(job.Step, repeats: 1));
            }
            MeasurePeak(peak, cpuPeak);
        }

        foreach (var job in jobs)
        {
            long parameters = job.Gpt.Module.parameters().Sum(p => p.numel());
            double tokens = Batch * job.Gpt.Info.Layout.SequenceLength;
            var context = LlamaGenBenchModels.Context(job.Gpt);
            context["batch"] = Batch;
            context["dropout"] = job.Dropout;
            context["parameters"] = parameters;
            context["mkl_vendor_path"] = MklVendorPath.Active;
            string tag = $"dropout {job.Dropout:0.0}";
            report.Add($"train step ({tag})", job.Wall, "s", context);
            report.Add($"train tokens/s ({tag})", job.Wall.Select(s => tokens / s).ToArray(), "tokens/s", context);
            var gflops = job.Wall.Select(s => 6.0 * parameters * tokens / s / 1e9).ToArray();
            report.Add($"model GFLOP/s ({tag})", gflops, "GFLOP/s", context);
            report.Add($"% of GEMM limit ({tag})", 100 * BenchReport.Median(gflops) / BenchReport.Median(peak), "%", context);
            var cpuGflops = job.Cpu.Select(s => 6.0 * parameters * tokens / s / 1e9).ToArray();
            report.Add($"1-thread cpu: model GFLOP/s ({tag})", cpuGflops, "GFLOP/s", context);
            report.Add($"1-thread cpu: % of GEMM limit ({tag})", 100 * BenchReport.Median(cpuGflops) / BenchReport.Median(cpuPeak), "%", context);
            job.Optimizer.Dispose();
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
