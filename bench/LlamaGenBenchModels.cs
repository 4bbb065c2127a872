using System.Diagnostics;
using IAR.Abstractions;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;

namespace IAR.Bench;

/// <summary>
/// The benchmark GPT: GPT-S (dim 256, 4 layers, 8 heads) over a VQ-S token grid of 8×8 with a 1024-entry codebook
/// (32×32 single-channel images), 10 classes — built through the plugin factories.
/// </summary>
internal static class LlamaGenBenchModels
{
    /// <summary>A GPT's width, depth and heads, with the name the bench reports it under.</summary>
    public sealed record GptSize(string Name, int Dim, int Layers, int Heads)
    {
        /// <summary>GPT-S as the study and the bench use it.</summary>
        public static readonly GptSize Small = new("GPT-S", 256, 4, 8);

        /// <summary>GPT-S as the quickstart narrows it.</summary>
        public static readonly GptSize Quickstart = new("GPT-S dim 128", 128, 4, 4);

        /// <summary>GPT-B's width and depth.</summary>
        public static readonly GptSize Base = new("GPT-B", 768, 12, 12);
    }

    public const int Classes = 10;

    public static GptGenerator Gpt(double dropout) => Gpt(dropout, GptSize.Small);

    /// <summary>A GPT of <paramref name="size"/> over the benchmark's token grid and codebook (seeded: same weights every call).</summary>
    public static GptGenerator Gpt(double dropout, GptSize size)
    {
        torch.manual_seed(0);
        var tokenizer = new VqTokenizerFactory().Create(new TokenizerRequest("VQ-S", new Dictionary<string, string>(), new ImageShape(1, 32, 32)));
        var text = dropout.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var options = new Dictionary<string, string>
        {
            ["token_dropout_p"] = text, ["resid_dropout_p"] = text, ["ffn_dropout_p"] = text,
            // a trained model's logits are not uniform; the official zero-init head would make sampling degenerate
            ["output_init_std"] = "0.02",
            ["dim"] = size.Dim.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["n_layer"] = size.Layers.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["n_head"] = size.Heads.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return (GptGenerator)new GptGeneratorFactory().Create(new GeneratorRequest("GPT-S", options, tokenizer, Classes));
    }

    /// <summary>A seeded random batch for <paramref name="gpt"/> on <paramref name="device"/>: tokens, labels, 10 % of labels dropped.</summary>
    public static TokenBatch RandomBatch(IGenerator gpt, int batch, torch.Device? device = null)
    {
        device ??= torch.CPU;
        using var rng = new torch.Generator(2);
        int length = gpt.Info.Layout.SequenceLength;
        return new TokenBatch(
            torch.randint(0, gpt.Info.VocabularySize, [batch, length], generator: rng, dtype: torch.ScalarType.Int64).to(device),
            torch.randint(0, Classes, [batch], generator: rng, dtype: torch.ScalarType.Int64).to(device),
            torch.rand([batch], generator: rng).lt(0.1).to(device));
    }

    /// <summary>
    /// One training step as the trainer takes it, without data loading: forward, token CE, backward, global-norm
    /// clipping (not read back) and the host's AdamW at lr 1e-4; on CUDA the device is synchronised so a timer sees it.
    /// </summary>
    public static Action TrainStep(IGenerator generator, Host.Training.AdamW optimizer, TokenBatch batch, double gradClip)
    {
        var loss = new Host.Training.TokenCrossEntropy();
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            optimizer.ZeroGrad();
            var output = generator.Forward(batch);
            loss.Compute(output.Logits, output.Targets).backward();
            Host.Training.GradientClipping.Clip(optimizer.Parameters, gradClip);
            optimizer.Step(1e-4);
            if (batch.Tokens.device_type == DeviceType.CUDA) torch.cuda.synchronize();
        };
    }

    /// <summary>
    /// Process CPU seconds per run of <paramref name="action"/> with libtorch on one thread. On a shared machine wall
    /// time mostly measures the other tenants (and every small op's thread barrier waits for a descheduled thread);
    /// single-thread CPU time measures our own work.
    /// </summary>
    public static double[] SingleThreadCpuSeconds(Action action, int repeats, int warmup = 1)
    {
        int threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            for (int i = 0; i < warmup; i++) action();
            using var process = Process.GetCurrentProcess();
            var seconds = new double[repeats];
            for (int i = 0; i < repeats; i++)
            {
                process.Refresh();
                var before = process.TotalProcessorTime;
                action();
                process.Refresh();
                seconds[i] = (process.TotalProcessorTime - before).TotalSeconds;
            }
            return seconds;
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    public static Dictionary<string, object> Context(GptGenerator g) => Context(g, GptSize.Small);

    public static Dictionary<string, object> Context(GptGenerator g, GptSize size) => new()
    {
        ["model"] = size.Name, ["dim"] = size.Dim, ["layers"] = size.Layers, ["heads"] = size.Heads, ["vocab"] = g.Info.VocabularySize,
        ["grid"] = g.Info.Layout.ToString(), ["threads"] = torch.get_num_threads(),
    };
}
