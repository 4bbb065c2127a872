using IAR.Host.Runs;
using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using IAR.Host.Training;
using IAR.Tests.Data;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

public class ObjectiveTests
{
    [Fact]
    public void Tokenizer_training_lowers_the_reconstruction_error_of_held_out_images()
    {
        using var dir = new TempDir();
        using var train = TokenCacheTests.RandomImages(64, seed: 1);
        using var test = TokenCacheTests.RandomImages(16, seed: 2);
        var tokenizer = FixturePluginCatalog.Tokenizer(0);
        double Error()
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var x = test.Images(torch.arange(16L));
            return tokenizer.Reconstruct(x).Reconstruction.sub(x).pow(2).mean().item<float>();
        }
        double before = Error();
        var metrics = new MetricsLog(dir.File("m.jsonl"));
        new Trainer(new TrainerSettings
        {
            Training = new TrainingSpec { Steps = 40, BatchSize = 16, Lr = 0.02, WarmupSteps = 2, LogEvery = 10, CheckpointEvery = 0 },
            Seed = 0, Folder = dir.File("tok"), WeightsFile = dir.File("tok.safetensors"), Config = "tok",
            Tags = new Dictionary<string, object> { ["stage"] = "tokenizer" }, Label = "tokenizer", Metrics = metrics,
        }).Run(new TokenizerObjective(tokenizer, train, flip: true, CPU));
        Assert.True(Error() < before, $"held-out reconstruction error {Error():F4} did not fall below {before:F4}");
        Assert.All(metrics.ReadAll(), r => Assert.True(r.TryGetProperty("loss/reconstruction_l2", out _) && r.TryGetProperty("images_per_s", out _)));
    }

    [Fact]
    public void Images_of_the_wrong_size_for_the_tokenizer_are_a_configuration_error()
    {
        using var images = new InMemoryImageDataset("16px", torch.zeros([4, 1, 16, 16], ScalarType.Byte), torch.zeros(4, ScalarType.Int64), ["a"]);
        var e = Assert.Throws<ConfigurationException>(() => new TokenizerObjective(FixturePluginCatalog.Tokenizer(0), images, flip: false, CPU));
        Assert.Contains("takes 1x8x8 images but the data gives 1x16x16", e.Message);
        Assert.Contains("data.image_size", e.Message);
    }

    [Fact]
    public void Tokens_that_do_not_fit_the_generator_are_a_configuration_error()
    {
        using var setup = new TinyGeneratorSetup();
        var generator = TinyGeneratorSetup.Generator();
        var wrongVocabulary = new FakeTokens(setup.Tokens, vocabulary: 32);
        Assert.Contains("predicts 16 indices but the cached tokens use a vocabulary of 32",
            Assert.Throws<ConfigurationException>(() => new GeneratorObjective(generator, wrongVocabulary, GeneratorLoss.Sum(new TokenCrossEntropy()), 0, CPU)).Message);
        var moreClasses = new FakeTokens(setup.Tokens, classes: 10);
        Assert.Contains("has 4 classes but the data has 10",
            Assert.Throws<ConfigurationException>(() => new GeneratorObjective(generator, moreClasses, GeneratorLoss.Sum(new TokenCrossEntropy()), 0, CPU)).Message);
    }

    sealed class FakeTokens(ITokenSource inner, int? vocabulary = null, int? classes = null) : ITokenSource
    {
        public int Count => inner.Count;
        public int SequenceLength => inner.SequenceLength;
        public int Variants => inner.Variants;
        public int VocabularySize => vocabulary ?? inner.VocabularySize;
        public int NumClasses => classes ?? inner.NumClasses;
        public string Permutation => inner.Permutation;
        public TokenBatch Gather(Tensor indices, Tensor? variants = null) => inner.Gather(indices, variants);
    }
}
