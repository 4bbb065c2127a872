using IAR.Host.Runs;
using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using IAR.Host.Training;
using IAR.Tests.Data;
using IAR.Tests.Support;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>
/// A fixture-plugin generator (per-class unigram table, 16 tokens of V = 16) on a token cache of random 8x8 images
/// with flipped variants: small enough for dozens of optimizer steps per second, with every random stream in use.
/// </summary>
internal sealed class TinyGeneratorSetup : IDisposable
{
    public TempDir Dir { get; } = new();

    public InMemoryImageDataset Images { get; }

    public TokenCache Tokens { get; }

    public TinyGeneratorSetup(int images = 48)
    {
        Images = TokenCacheTests.RandomImages(images, seed: 11);
        var path = Dir.File("tokens.safetensors");
        TokenCacheWriter.Write(path, FixturePluginCatalog.Tokenizer(0), "tokenizer-hash", Images, withFlips: true, batchSize: 16, CPU);
        Tokens = TokenCache.Open(path, "tokenizer-hash", Images.Fingerprint);
    }

    public static TrainingSpec Spec(int steps = 30) => new()
    {
        Steps = steps, BatchSize = 8, Lr = 0.05, WarmupSteps = 3, CheckpointEvery = 7, LogEvery = 4, Ema = 0.9, LabelDrop = 0.3, KeepCheckpoints = 10,
    };

    public TrainerSettings Settings(string job, TrainingSpec spec, MetricsLog? metrics = null) => new()
    {
        Training = spec,
        Seed = 5,
        Folder = Dir.File(job),
        WeightsFile = Dir.File(Path.Combine(job, "generator.safetensors")),
        Config = $"spec: {spec}",
        Tags = new Dictionary<string, object> { ["stage"] = "generator", ["arm"] = "baseline", ["seed"] = 5 },
        Label = $"generator {job}",
        Tokenizer = "tokenizer-hash",
        Metrics = metrics,
    };

    /// <summary>A fresh generator; <paramref name="initSeed"/> differs between runs to prove that resuming restores the weights.</summary>
    public static IGenerator Generator(int initSeed = 0) => FixturePluginCatalog.Generator(initSeed);

    public GeneratorObjective Objective(IGenerator generator, params WeightedTerm[] extra) =>
        new(generator, Tokens, new GeneratorLoss([new(new TokenCrossEntropy(), 1.0), .. extra]), labelDrop: 0.3, CPU);

    public void Dispose()
    {
        Tokens.Dispose();
        Images.Dispose();
        Dir.Dispose();
    }
}
