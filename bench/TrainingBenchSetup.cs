using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using IAR.Host.Training;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// Generator training as the pipeline runs it: the bundled Fashion-MNIST subset at 32 px encoded once by a VQ-S
/// tokenizer (8×8 tokens of 1024 codes; its weights are untrained, which changes nothing for speed or memory),
/// and a GPT-S trained on that cache with token cross-entropy, label dropout and the shared <see cref="Trainer"/>.
/// </summary>
internal sealed class TrainingBenchSetup : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "iar-bench-training-" + Guid.NewGuid().ToString("N")[..8]);
    readonly DatasetSplits data;

    public TrainingBenchSetup()
    {
        data = DatasetLoader.Load(new DataSpec { Path = FashionMnist.BundledFolder(), TestLimit = 10 });
        torch.manual_seed(0);
        Tokenizer = new VqTokenizerFactory().Create(new TokenizerRequest("VQ-S", new Dictionary<string, string>(), data.Train.Shape));
        var path = Path.Combine(folder, "tokens.safetensors");
        TokenCacheWriter.Write(path, Tokenizer, "bench", data.Train, withFlips: false, batchSize: 256, CPU);
        Tokens = TokenCache.Open(path, "bench", data.Train.Fingerprint);
    }

    public ITokenizer Tokenizer { get; }

    public TokenCache Tokens { get; }

    /// <summary>A fresh GPT-S, the objective over the cache, and trainer settings for <paramref name="steps"/> steps.</summary>
    public (IGenerator Generator, GeneratorObjective Objective, TrainerSettings Settings) Job(string name, int steps, int batchSize,
        Action<long> everyHundred)
    {
        torch.manual_seed(0);
        var generator = new GptGeneratorFactory().Create(new GeneratorRequest("GPT-S", new Dictionary<string, string>(), Tokenizer, Tokens.NumClasses));
        var objective = new GeneratorObjective(generator, Tokens, GeneratorLoss.Sum(new TokenCrossEntropy()), labelDrop: 0.1, CPU);
        var settings = new TrainerSettings
        {
            Training = new TrainingSpec { Steps = steps, BatchSize = batchSize, Lr = 3e-4, WarmupSteps = 10, CheckpointEvery = 0, LogEvery = 50 },
            Seed = 0,
            Folder = Path.Combine(folder, name),
            WeightsFile = Path.Combine(folder, name, "generator.safetensors"),
            Config = name,
            Tags = new Dictionary<string, object> { ["stage"] = "generator" },
            Label = name,
            Evaluate = everyHundred,
            EvaluateEvery = 100,
        };
        return (generator, objective, settings);
    }

    public void Dispose()
    {
        Tokens.Dispose();
        data.Dispose();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp folder
        }
    }
}
