using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Host.Native;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// <c>training.precision</c>: the GPT-S training step of <see cref="LlamaGenTrainingBenchmark"/> (batch 64 × 64 tokens,
/// forward, token cross-entropy, backward, clipping, the host's AdamW) in fp32 and in bf16 (the
/// <see cref="MixedPrecisionGenerator"/> the trainer uses), interleaved round by round on the same model so that both
/// see the same machine load; with the fp32 and bf16 1024² GEMM limits of the same run for scale.
/// </summary>
public sealed class PrecisionBenchmark : IBenchmark
{
    const int Batch = 64;

    public string Name => "precision";

    public string Description => "GPT-S training step, batch 64 × 64 tokens: fp32 vs bf16 (training.precision) tokens/s, same run, with fp32/bf16 GEMM limits.";

    public void Run(BenchReport report)
    {
        var defaults = new TrainingSpec();
        var gemmContext = new Dictionary<string, object> { ["threads"] = torch.get_num_threads(), ["mkl_vendor_path"] = MklVendorPath.Active };
        var gemm = new Dictionary<Precision, List<double>> { [Precision.Fp32] = [], [Precision.Bf16] = [] };
        foreach (double dropout in new[] { 0.1, 0.0 })
        {
            var gpt = LlamaGenBenchModels.Gpt(dropout);
            gpt.Module.train();
            int length = gpt.Info.Layout.SequenceLength;
            var batch = LlamaGenBenchModels.RandomBatch(gpt, Batch);
            using var optimizer = new AdamW(gpt.Module.named_parameters().Select(p => (p.name, p.parameter)), defaults.Beta1, defaults.Beta2, defaults.WeightDecay);
            Action Step(Precision precision) =>
                LlamaGenBenchModels.TrainStep(MixedPrecisionGenerator.Wrap(gpt, precision), optimizer, batch, defaults.GradClip);

            var wall = new Dictionary<Precision, List<double>> { [Precision.Fp32] = [], [Precision.Bf16] = [] };
            var cpu = new Dictionary<Precision, List<double>> { [Precision.Fp32] = [], [Precision.Bf16] = [] };
            for (int round = 0; round < 3; round++)
                foreach (var precision in new[] { Precision.Fp32, Precision.Bf16 })
                {
                    wall[precision].AddRange(BenchReport.Time(Step(precision), repeats: 5, warmup: 1));
                    cpu[precision].AddRange(LlamaGenBenchModels.SingleThreadCpuSeconds(Step(precision), repeats: 2));
                    gemm[precision].AddRange(MatmulPeakBenchmark.Gflops(1024, precision == Precision.Fp32 ? ScalarType.Float32 : ScalarType.BFloat16, samples: 2));
                }

            double tokens = Batch * length;
            var context = LlamaGenBenchModels.Context(gpt);
            context["batch"] = Batch;
            context["dropout"] = dropout;
            foreach (var precision in wall.Keys)
            {
                string tag = $"{precision.ToString().ToLowerInvariant()}, dropout {dropout:0.0}";
                report.Add($"train tokens/s ({tag})", wall[precision].Select(s => tokens / s).ToArray(), "tokens/s", context);
                report.Add($"1-thread cpu: train tokens/s ({tag})", cpu[precision].Select(s => tokens / s).ToArray(), "tokens/s", context);
            }
            report.Add($"bf16 / fp32 tokens/s (dropout {dropout:0.0})", BenchReport.Median(wall[Precision.Fp32]) / BenchReport.Median(wall[Precision.Bf16]), "×", context);
            report.Add($"1-thread cpu: bf16 / fp32 tokens/s (dropout {dropout:0.0})", BenchReport.Median(cpu[Precision.Fp32]) / BenchReport.Median(cpu[Precision.Bf16]), "×", context);
            gpt.Module.Dispose();
        }
        report.Add("fp32 GEMM limit 1024² (same run)", gemm[Precision.Fp32], "GFLOP/s", gemmContext);
        report.Add("bf16 GEMM limit 1024² (same run)", gemm[Precision.Bf16], "GFLOP/s", gemmContext);
    }
}
