using IAR.Host.Runs;
using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using IAR.Host.Plugins;
using IAR.Host.Training;
using IAR.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>
/// Real training through the shared trainer with the LlamaGen plugin, once for the whole class: a VQ-T tokenizer on
/// the bundled Fashion-MNIST subset at 16 px (8×8 tokens, 64 codes), then a GPT-T on its cached tokens.
/// </summary>
public sealed class LlamaGenTrainingRun : IDisposable
{
    public const int TokenizerSteps = 200;
    public const int GeneratorSteps = 200;

    readonly TempDir dir = new();

    public LlamaGenTrainingRun()
    {
        // Tiny convolutions run several times faster on one libtorch thread than on two fighting over busy cores;
        // test classes run one at a time (Support/TestParallelization.cs), and the count is restored afterwards.
        int threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            Train();
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    void Train()
    {
        var catalog = PluginCatalog.Load(RepoPaths.BuiltPlugins);
        using var data = DatasetLoader.Load(new DataSpec
        {
            Path = Path.Combine(RepoPaths.Experiments, "data", "fashion-mnist-subset"), ImageSize = 16, TrainLimit = 2000, TestLimit = 500,
        });
        torch.manual_seed(0);
        var tokenizer = catalog.TokenizerFactory("LlamaGen", "VQ-T").Create(new TokenizerRequest("VQ-T",
            new Dictionary<string, string> { ["ch"] = "16", ["norm_groups"] = "8" }, data.Train.Shape));
        new Trainer(Settings("tokenizer", new TrainingSpec
        {
            Steps = TokenizerSteps, BatchSize = 16, Lr = 2e-3, WarmupSteps = 20, WeightDecay = 0, Beta2 = 0.99, LabelDrop = 0, CheckpointEvery = 0, LogEvery = 50,
        })).Run(new TokenizerObjective(tokenizer, data.Train, flip: false, CPU));
        tokenizer.Module.eval();
        Tokenizer = TokenizerQuality.Measure(tokenizer, data.Test, maxImages: 500, batchSize: 100, CPU);

        var cachePath = dir.File("train.safetensors");
        TokenCacheWriter.Write(cachePath, tokenizer, "vq", data.Train, withFlips: false, batchSize: 200, CPU);
        using var cache = TokenCache.Open(cachePath, "vq", data.Train.Fingerprint);
        using var tokens = cache.Gather(torch.arange((long)cache.Count)).Tokens;   // [N, L]
        UnigramEntropy = Entropy(tokens.flatten().bincount(null, cache.VocabularySize).unsqueeze(0));
        PositionalEntropy = Entropy(torch.stack(Enumerable.Range(0, cache.SequenceLength)
            .Select(l => tokens[.., l].bincount(null, cache.VocabularySize)).ToArray()));

        torch.manual_seed(0);
        var generator = catalog.GeneratorFactory("LlamaGen", "GPT-T").Create(
            new GeneratorRequest("GPT-T", new Dictionary<string, string>(), tokenizer, cache.NumClasses));
        var metrics = new MetricsLog(dir.File("metrics.jsonl"));
        new Trainer(Settings("generator", new TrainingSpec
        {
            Steps = GeneratorSteps, BatchSize = 32, Lr = 2e-3, WarmupSteps = 20, LabelDrop = 0.1, CheckpointEvery = 0, LogEvery = 50,
        }) with { Metrics = metrics }).Run(new GeneratorObjective(generator, cache, GeneratorLoss.Sum(new TokenCrossEntropy()), labelDrop: 0.1, CPU));
        GeneratorLosses = metrics.ReadAll().Select(r => r.GetProperty("loss/token_ce").GetDouble()).ToArray();
    }

    TrainerSettings Settings(string name, TrainingSpec spec) => new()
    {
        Training = spec, Seed = 0, Folder = dir.File(name), WeightsFile = dir.File($"{name}.safetensors"), Config = name,
        Tags = new Dictionary<string, object> { ["stage"] = name }, Label = name,
    };

    /// <summary>Mean over rows of the entropy (nats) of each row's counts: [R, V] → scalar.</summary>
    static double Entropy(Tensor counts)
    {
        using var p = counts.to(ScalarType.Float64) / counts.sum(1, keepdim: true);
        using var terms = torch.where(p.gt(0), -p * p.log(), torch.zeros_like(p));
        return terms.sum(1).mean().item<double>();
    }

    public TokenizerQuality Tokenizer { get; private set; } = null!;

    /// <summary>Entropy of the token frequencies over all positions (nats): the loss of the best context-free model.</summary>
    public double UnigramEntropy { get; private set; }

    /// <summary>Mean entropy of each position's token frequencies: the loss of the best model that only knows the position.</summary>
    public double PositionalEntropy { get; private set; }

    /// <summary>Mean token cross-entropy of every 50-step window.</summary>
    public double[] GeneratorLosses { get; private set; } = [];

    public void Dispose() => dir.Dispose();
}

public class LlamaGenTrainingTests(LlamaGenTrainingRun run, ITestOutputHelper output) : IClassFixture<LlamaGenTrainingRun>
{
    [Fact]
    public void A_VQ_T_trained_on_the_bundled_subset_reconstructs_held_out_images_and_uses_its_codebook()
    {
        output.WriteLine($"VQ-T after {LlamaGenTrainingRun.TokenizerSteps} steps: held-out PSNR {run.Tokenizer.Psnr:F2} dB, " +
                         $"codebook usage {run.Tokenizer.CodebookUsage:P1} ({run.Tokenizer.UsedCodes}/{run.Tokenizer.VocabularySize})");
        // measured (CPU, one thread, libtorch 2.10): 19.97 dB and 35 of 64 codes (54.7 %)
        Assert.True(run.Tokenizer.Psnr > 19.0, $"held-out PSNR {run.Tokenizer.Psnr:F2} dB; measured 19.97 dB, asserted > 19");
        Assert.True(run.Tokenizer.CodebookUsage >= 0.30, $"codebook usage {run.Tokenizer.CodebookUsage:P1}; measured 54.7 %, asserted ≥ 30 %");
    }

    [Fact]
    public void A_GPT_T_on_the_cached_tokens_falls_clearly_below_the_unigram_entropy()
    {
        output.WriteLine($"unigram entropy {run.UnigramEntropy:F3} nats, per-position {run.PositionalEntropy:F3} nats; " +
                         $"GPT-T token CE per 50 steps: {string.Join(", ", run.GeneratorLosses.Select(l => l.ToString("F3")))}");
        // measured: unigram 2.728, per-position 2.334, final window 1.783 nats (0.95 and 0.55 below)
        double final = run.GeneratorLosses[^1];
        Assert.True(final < run.UnigramEntropy - 0.6, $"final loss {final:F3} is not 0.6 nats below the unigram entropy {run.UnigramEntropy:F3}");
        Assert.True(final < run.PositionalEntropy - 0.3,
            $"final loss {final:F3} is not 0.3 nats below the per-position entropy {run.PositionalEntropy:F3}: the model does not use context");
        Assert.True(final < run.GeneratorLosses[0], "the loss did not fall");
    }
}
