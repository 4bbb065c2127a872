using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Native;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// <c>training.precision</c>: GPT training steps (forward, token cross-entropy, backward, clipping, the host's AdamW;
/// dropout 0.1) in fp32 and in bf16 (the <see cref="MixedPrecisionGenerator"/> the trainer uses), interleaved round by
/// round on the same model so that both see the same machine load, at three sizes — GPT-S dim 128 (the quickstart's,
/// batch 48), GPT-S dim 256 (the study's, batch 64) and a GPT-B-sized step (dim 768, 12 layers, batch 8) — with the
/// fp32 and bf16 1024² GEMM limits sampled between them; and KV-cache sampling in both (<see cref="PrecisionSamplingBenchmark"/>).
/// Model FLOPs of a step: tokens × (6 × matmul parameters + 12 × layers × sequence length × dim), the attention
/// matmuls counted in full (not halved for the causal mask).
/// </summary>
public sealed class PrecisionBenchmark : IBenchmark
{
    public string Name => "precision";

    public string Description => "GPT train steps (dim 128, 256, GPT-B-sized) and KV-cache sampling: fp32 vs bf16 tokens/s, model GFLOP/s and % of the same run's bf16 GEMM limit.";

    internal static readonly Precision[] Both = [Precision.Fp32, Precision.Bf16];

    internal static string Tag(Precision p) => p.ToString().ToLowerInvariant();

    /// <summary>
    /// <paramref name="work"/> in fp32 and bf16, interleaved round by round so that both see the same machine load:
    /// each round times <paramref name="repeats"/> wall runs (after a warm-up) and, when <paramref name="cpuRepeats"/>
    /// is above 0, that many 1-thread runs by CPU time (steadier on a shared machine), then calls <paramref name="between"/>.
    /// </summary>
    internal static (Dictionary<Precision, List<double>> Wall, Dictionary<Precision, List<double>> Cpu) Interleaved(
        Func<Precision, Action> work, int rounds, int repeats, int cpuRepeats, Action between)
    {
        var wall = Both.ToDictionary(p => p, _ => new List<double>());
        var cpu = Both.ToDictionary(p => p, _ => new List<double>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (var precision in Both)
            {
                wall[precision].AddRange(BenchReport.Time(work(precision), repeats, warmup: 1));
                if (cpuRepeats > 0) cpu[precision].AddRange(LlamaGenBenchModels.SingleThreadCpuSeconds(work(precision), cpuRepeats));
            }
            between();
        }
        return (wall, cpu);
    }

    /// <summary>
    /// KV-cache sampling of <paramref name="labels"/> (0, 1, … modulo <paramref name="classes"/>) at <paramref name="cfg"/>,
    /// fp32 vs bf16, interleaved (3 rounds); puts the generator in eval mode.
    /// </summary>
    internal static (Dictionary<Precision, List<double>> Wall, Dictionary<Precision, List<double>> Cpu) SamplingSeconds(
        IGenerator generator, int labels, int classes, double cfg, Action between)
    {
        generator.Module.eval();
        using var labelTensor = torch.arange(labels, dtype: ScalarType.Int64) % classes;   // [labels]
        Action Generate(Precision precision) => () =>
        {
            using var scope = torch.NewDisposeScope();
            using var rng = new torch.Generator(1);
            MixedPrecisionGenerator.Wrap(generator, precision).Generate(labelTensor, new SamplingOptions(CfgScale: cfg, UseKvCache: true), rng);
        };
        return Interleaved(Generate, rounds: 3, repeats: 3, cpuRepeats: 2, between);
    }

    /// <summary>
    /// Reports the <paramref name="tokens"/> per second of each timed run (<paramref name="what"/>, e.g. "train tokens/s")
    /// in both precisions, wall and, when timed, 1-thread CPU, and the bf16 / fp32 ratio of the medians; every measure
    /// named after <paramref name="model"/>.
    /// </summary>
    internal static void AddRates(BenchReport report, string model, string what, double tokens,
        (Dictionary<Precision, List<double>> Wall, Dictionary<Precision, List<double>> Cpu) seconds, Dictionary<string, object> context)
    {
        bool cpuTime = seconds.Cpu[Precision.Fp32].Count > 0;
        foreach (var precision in Both)
        {
            report.Add($"{model}: {what} ({Tag(precision)})", seconds.Wall[precision].Select(s => tokens / s).ToArray(), "tokens/s", context);
            if (cpuTime) report.Add($"{model}: 1-thread cpu: {what} ({Tag(precision)})", seconds.Cpu[precision].Select(s => tokens / s).ToArray(), "tokens/s", context);
        }
        report.Add($"{model}: bf16 / fp32 {what}", BenchReport.Median(seconds.Wall[Precision.Fp32]) / BenchReport.Median(seconds.Wall[Precision.Bf16]), "×", context);
        if (cpuTime)
            report.Add($"{model}: 1-thread cpu: bf16 / fp32 {what}", BenchReport.Median(seconds.Cpu[Precision.Fp32]) / BenchReport.Median(seconds.Cpu[Precision.Bf16]), "×", context);
    }

    /// <summary>The GPT-S train steps (size, batch, rounds, 1-thread CPU time too): the quickstart's and the study's.</summary>
    internal static readonly (LlamaGenBenchModels.GptSize Size, int Batch, int Rounds, bool CpuTime)[] GptSSteps =
        [(LlamaGenBenchModels.GptSize.Quickstart, 48, 3, true), (LlamaGenBenchModels.GptSize.Small, 64, 3, true)];

    public void Run(BenchReport report) => Run(report, [.. GptSSteps, (LlamaGenBenchModels.GptSize.Base, 8, 2, false)], sampling: true);

    /// <summary>
    /// The train step at each of <paramref name="sizes"/> (size, batch, rounds, whether 1-thread CPU time is taken too),
    /// KV-cache sampling when <paramref name="sampling"/>, and the GEMM limits sampled between them.
    /// </summary>
    internal static void Run(BenchReport report, IReadOnlyList<(LlamaGenBenchModels.GptSize Size, int Batch, int Rounds, bool CpuTime)> sizes, bool sampling)
    {
        var gemmContext = new Dictionary<string, object> { ["threads"] = torch.get_num_threads(), ["mkl_vendor_path"] = MklVendorPath.Active };
        var gemm = Both.ToDictionary(p => p, _ => new List<double>());
        void SampleGemm()
        {
            foreach (var precision in Both)
                gemm[precision].AddRange(MatmulPeakBenchmark.Gflops(1024, precision == Precision.Fp32 ? ScalarType.Float32 : ScalarType.BFloat16, samples: 2));
        }

        var steps = sizes.Select(s => TrainStep(report, s.Size, s.Batch, s.Rounds, s.CpuTime, SampleGemm)).ToList();
        if (sampling) PrecisionSamplingBenchmark.Sampling(report, SampleGemm);

        report.Add("fp32 GEMM limit 1024² (same run)", gemm[Precision.Fp32], "GFLOP/s", gemmContext);
        report.Add("bf16 GEMM limit 1024² (same run)", gemm[Precision.Bf16], "GFLOP/s", gemmContext);
        double bf16Limit = BenchReport.Median(gemm[Precision.Bf16]);
        foreach (var (model, gflops, context) in steps)
            foreach (var precision in Both)
                report.Add($"{model}: model GFLOP/s ({Tag(precision)}) / bf16 GEMM limit", 100 * gflops[precision] / bf16Limit, "%", context);
    }

    /// <summary>One size's train step in both precisions; returns the median model GFLOP/s of each.</summary>
    static (string, Dictionary<Precision, double>, Dictionary<string, object>) TrainStep(
        BenchReport report, LlamaGenBenchModels.GptSize size, int batchSize, int rounds, bool cpuTime, Action sampleGemm)
    {
        var defaults = new TrainingSpec();
        var gpt = LlamaGenBenchModels.Gpt(0.1, size);
        gpt.Module.train();
        int length = gpt.Info.Layout.SequenceLength;
        var batch = LlamaGenBenchModels.RandomBatch(gpt, batchSize);
        using var optimizer = new AdamW(gpt.Module.named_parameters().Select(p => (p.name, p.parameter)), defaults.Beta1, defaults.Beta2, defaults.WeightDecay);
        Action Step(Precision precision) =>
            LlamaGenBenchModels.TrainStep(MixedPrecisionGenerator.Wrap(gpt, precision), optimizer, batch, defaults.GradClip);
        var seconds = Interleaved(Step, rounds, repeats: cpuTime ? 5 : 2, cpuRepeats: cpuTime ? 2 : 0, sampleGemm);

        double tokens = batchSize * length;
        long matmulParameters = gpt.Module.named_parameters()
            .Where(p => p.parameter.dim() == 2 && !p.name.Contains("embedding", StringComparison.Ordinal))
            .Sum(p => p.parameter.NumberOfElements);
        double flops = tokens * (6.0 * matmulParameters + 12.0 * size.Layers * length * size.Dim);
        var context = LlamaGenBenchModels.Context(gpt, size);
        context["batch"] = batchSize;
        context["dropout"] = 0.1;
        context["step_gflop"] = flops / 1e9;
        AddRates(report, size.Name, "train tokens/s", tokens, seconds, context);
        var gflops = new Dictionary<Precision, double>();
        foreach (var precision in Both)
        {
            report.Add($"{size.Name}: model GFLOP/s ({Tag(precision)})", seconds.Wall[precision].Select(s => flops / s / 1e9).ToArray(), "GFLOP/s", context);
            gflops[precision] = flops / BenchReport.Median(seconds.Wall[precision]) / 1e9;
        }
        gpt.Module.Dispose();
        return (size.Name, gflops, context);
    }
}

/// <summary>
/// The GPT-S train steps of <see cref="PrecisionBenchmark"/> alone (dim 128 batch 48, dim 256 batch 64), with the GEMM
/// limits: what a change to the bf16 training step is measured by (26 s against the whole benchmark's 3.6 min on the
/// AMD EPYC of 2026-12-07).
/// </summary>
public sealed class PrecisionTrainBenchmark : IBenchmark
{
    public string Name => "precision-train";

    public string Description => "GPT-S train steps only (dim 128, 256): fp32 vs bf16 tokens/s, model GFLOP/s and % of the same run's bf16 GEMM limit.";

    public void Run(BenchReport report) => PrecisionBenchmark.Run(report, PrecisionBenchmark.GptSSteps, sampling: false);
}

/// <summary>
/// KV-cache sampling alone, fp32 vs bf16 (<c>precision</c> runs it too): at the quickstart evaluation's shape (GPT-S dim
/// 128, 100 labels, cfg 2 = 200 rows per matmul), at GPT-S dim 256 and at GPT-B's width and depth (dim 768, 12 layers),
/// 32 labels, cfg 2 each. At the two small sizes a token step is mostly per-op work (cache append, RoPE, norms, the
/// sampler's filters) that bf16 cannot shorten; GPT-B's step is mostly GEMM, where the matrix unit shows. Wall and
/// 1-thread CPU time, interleaved round by round; the bf16 region casts each weight once per call (the region's no-grad
/// cast cache).
/// </summary>
public sealed class PrecisionSamplingBenchmark : IBenchmark
{
    public string Name => "precision-sampling";

    public string Description => "KV-cache sampling tokens/s, fp32 vs bf16, at the quickstart evaluation's shape (dim 128, batch 100, cfg 2), dim 256 and GPT-B-sized (batch 32).";

    public void Run(BenchReport report) => Sampling(report, () => { });

    /// <summary>The three sizes, with <paramref name="sampleGemm"/> between rounds (the caller's GEMM-limit samples).</summary>
    public static void Sampling(BenchReport report, Action sampleGemm)
    {
        Sampling(report, LlamaGenBenchModels.GptSize.Quickstart, 100, sampleGemm);
        Sampling(report, LlamaGenBenchModels.GptSize.Small, 32, sampleGemm);
        Sampling(report, LlamaGenBenchModels.GptSize.Base, 32, sampleGemm);
    }

    static void Sampling(BenchReport report, LlamaGenBenchModels.GptSize size, int batch, Action sampleGemm)
    {
        var gpt = LlamaGenBenchModels.Gpt(0.1, size);
        var seconds = PrecisionBenchmark.SamplingSeconds(gpt, batch, LlamaGenBenchModels.Classes, cfg: 2.0, sampleGemm);
        var context = LlamaGenBenchModels.Context(gpt, size);
        context["batch"] = batch;
        context["cfg"] = 2.0;
        PrecisionBenchmark.AddRates(report, size.Name, "kv-cache sampling tokens/s", batch * gpt.Info.Layout.SequenceLength, seconds, context);
        gpt.Module.Dispose();
    }
}

/// <summary>
/// The VAR step and VAR sampling in fp32 and bf16 (the same <see cref="MixedPrecisionGenerator"/> the trainer and
/// evaluation use), interleaved: VAR-S on VQVAE-S's 6 scales of 32 px (130 tokens), a training step at batch 64
/// (forward, token CE, backward, clipping, AdamW) and KV-cache sampling of 32 labels at cfg 1.5; wall and 1-thread CPU.
/// </summary>
public sealed class PrecisionVarBenchmark : IBenchmark
{
    public string Name => "precision-var";

    public string Description => "VAR-S train step (batch 64) and KV-cache sampling (batch 32, cfg 1.5): fp32 vs bf16 tokens/s, wall and 1-thread CPU.";

    public void Run(BenchReport report)
    {
        var defaults = new TrainingSpec();
        var (tokenizer, generator) = VarSmallModels.Build();
        const int batchSize = 64, labelsCount = 32;
        int length = generator.Info.Layout.SequenceLength;
        var context = VarSmallModels.Context(tokenizer, generator, batchSize);

        generator.Module.train();
        var batch = LlamaGenBenchModels.RandomBatch(generator, batchSize);
        using (var optimizer = new AdamW(generator.Module.named_parameters().Select(p => (p.name, p.parameter)), defaults.Beta1, defaults.Beta2, defaults.WeightDecay))
        {
            Action Step(Precision precision) =>
                LlamaGenBenchModels.TrainStep(MixedPrecisionGenerator.Wrap(generator, precision), optimizer, batch, defaults.GradClip);
            var seconds = PrecisionBenchmark.Interleaved(Step, rounds: 3, repeats: 5, cpuRepeats: 2, () => { });
            PrecisionBenchmark.AddRates(report, "VAR-S", "train tokens/s", batchSize * length, seconds, context);
        }

        var sampling = PrecisionBenchmark.SamplingSeconds(generator, labelsCount, VarSmallModels.NumClasses, cfg: 1.5, () => { });
        var samplingContext = VarSmallModels.Context(tokenizer, generator, labelsCount);
        samplingContext["cfg"] = 1.5;
        PrecisionBenchmark.AddRates(report, "VAR-S", "kv-cache sampling tokens/s", labelsCount * length, sampling, samplingContext);
        generator.Module.Dispose();
        tokenizer.Module.Dispose();
    }
}
