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
    public const int Classes = 10;

    public static GptGenerator Gpt(double dropout)
    {
        torch.manual_seed(0);
        var tokenizer = new VqTokenizerFactory().Create(new TokenizerRequest("VQ-S", new Dictionary<string, string>(), new ImageShape(1, 32, 32)));
        var text = dropout.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var options = new Dictionary<string, string>
        {
            ["token_dropout_p"] = text, ["resid_dropout_p"] = text, ["ffn_dropout_p"] = text,
            // a trained model's logits are not uniform; the official zero-init head would make sampling degenerate
            ["output_init_std"] = "0.02",
        };
        return (GptGenerator)new GptGeneratorFactory().Create(new GeneratorRequest("GPT-S", options, tokenizer, Classes));
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

    public static Dictionary<string, object> Context(GptGenerator g) => new()
    {
        ["model"] = "GPT-S", ["dim"] = 256, ["layers"] = 4, ["heads"] = 8, ["vocab"] = g.Info.VocabularySize,
        ["grid"] = g.Info.Layout.ToString(), ["threads"] = torch.get_num_threads(),
    };
}
