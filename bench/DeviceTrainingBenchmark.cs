using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Host.Native;
using IAR.Host.Training;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// One LlamaGen GPT training step on a device (the GPU kit's yardstick, bench/gpu/run): forward, token cross-entropy,
/// backward, clipping and the host's AdamW with the defaults (dropout 0.1), fp32 and bf16, tokens/s per step with the
/// device synchronised around each timed step. bench/gpt_reference.py measures the same model in PyTorch eager.
/// Settings from the environment: IAR_BENCH_DEVICE (default: cuda when available, else cpu), IAR_BENCH_PRESET (GPT-B),
/// IAR_BENCH_BATCH (64), IAR_BENCH_STEPS (timed steps per precision, 10).
/// </summary>
public sealed class DeviceTrainingBenchmark : IBenchmark
{
    public string Name => "device-train";

    public string Description => "GPT-B (IAR_BENCH_PRESET) training step on IAR_BENCH_DEVICE, batch 64 × 64 tokens, vocab 1024: tokens/s in fp32 and bf16.";

    public void Run(BenchReport report)
    {
        var device = DeviceSelector.Resolve(Environment.GetEnvironmentVariable("IAR_BENCH_DEVICE") is { Length: > 0 } d ? d : "auto");
        string preset = Environment.GetEnvironmentVariable("IAR_BENCH_PRESET") is { Length: > 0 } p ? p : "GPT-B";
        int batch = Setting("IAR_BENCH_BATCH", 64), steps = Setting("IAR_BENCH_STEPS", 10);
        var defaults = new TrainingSpec();
        torch.manual_seed(0);
        var tokenizer = new VqTokenizerFactory().Create(new TokenizerRequest("VQ-S", new Dictionary<string, string>(), new ImageShape(1, 32, 32)));
        var gpt = new GptGeneratorFactory().Create(new GeneratorRequest(preset, new Dictionary<string, string> { ["output_init_std"] = "0.02" }, tokenizer, LlamaGenBenchModels.Classes));
        gpt.Module.to(device);
        gpt.Module.train();
        int length = gpt.Info.Layout.SequenceLength;
        var tokens = LlamaGenBenchModels.RandomBatch(gpt, batch, device);
        using var optimizer = new AdamW(gpt.Module.named_parameters().Select(x => (x.name, x.parameter)), defaults.Beta1, defaults.Beta2, defaults.WeightDecay);
        long parameters = gpt.Module.parameters().Sum(x => x.numel());
        var context = new Dictionary<string, object>
        {
            ["model"] = preset, ["parameters"] = parameters, ["batch"] = batch, ["tokens_per_step"] = batch * length,
            ["device"] = device.ToString(), ["libtorch"] = TorchRuntime.LibTorchVersion, ["tf32"] = torch.backends.cuda.matmul.allow_tf32,
        };
        foreach (var precision in new[] { Precision.Fp32, Precision.Bf16 })
        {
            var generator = MixedPrecisionGenerator.Wrap(gpt, precision);
            var Step = LlamaGenBenchModels.TrainStep(generator, optimizer, tokens, defaults.GradClip);
            var seconds = BenchReport.Time(Step, repeats: steps, warmup: 3);
            string tag = precision.ToString().ToLowerInvariant();
            report.Add($"{preset} train tokens/s ({tag}, {device})", seconds.Select(s => batch * length / s).ToArray(), "tokens/s", context);
        }
    }

    static int Setting(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
