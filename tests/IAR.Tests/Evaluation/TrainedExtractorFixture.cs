using IAR.Host.Data;
using IAR.Host.Evaluation;
using IAR.Tests.Support;

namespace IAR.Tests.Evaluation;

/// <summary>
/// The bundled Fashion-MNIST subset (6000 train / 2000 test images, 32×32) and a small-CNN extractor trained on it
/// briefly, once per test run, in a temporary cache folder.
/// </summary>
public sealed class TrainedExtractorFixture : IDisposable
{
    /// <summary>Few, small steps: enough for a usable classifier in seconds, not the 1500 steps of a real run.</summary>
    public static readonly FeatureExtractorTrainingOptions Options = new(Steps: 120, BatchSize: 64, Lr: 3e-3, Seed: 1);

    readonly TempDir cache = new();

    public TrainedExtractorFixture()
    {
        var folder = FashionMnist.BundledFolder() ?? throw new InvalidOperationException("The bundled Fashion-MNIST subset is missing.");
        using (var splits = DatasetLoader.Load(new IAR.Host.Data.DataSpec { Path = folder }))
        {
            Train = LabelledImages.All(splits.Train);
            Test = LabelledImages.All(splits.Test);
        }
        Extractor = FeatureExtractorTrainer.LoadOrTrain(CacheFolder, Train, Test, 10, Options, Log.Add);
        Reference = ReferenceFeatures.Compute(Extractor, Train.Images);
    }

    public string CacheFolder => cache.Path;

    public List<string> Log { get; } = [];

    public LabelledImages Train { get; }

    public LabelledImages Test { get; }

    public ClassifierFeatureExtractor Extractor { get; }

    public ReferenceFeatures Reference { get; }

    public void Dispose()
    {
        Reference.Dispose();
        Extractor.Dispose();
        Train.Dispose();
        Test.Dispose();
        cache.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class TrainedExtractorCollection : ICollectionFixture<TrainedExtractorFixture>
{
    public const string Name = "trained feature extractor";
}
