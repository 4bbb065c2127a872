using System.Globalization;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// <see cref="IFeatureExtractor"/> over the project's <see cref="SmallCnnClassifier"/>. Images of another size are
/// resized (bilinear) to the size it was trained on; 3-channel images are averaged to grey for a grey model and grey
/// images repeated for a colour one, so generated and reference images pass through the same transform.
/// </summary>
public sealed class ClassifierFeatureExtractor : IFeatureExtractor, IDisposable
{
    /// <summary>Metadata key naming the extractor kind; <see cref="Kind"/> for this class.</summary>
    public const string KindKey = "iar.extractor";

    public const string Kind = "small-cnn";

    const string ConfigKey = "iar.extractor.config";
    const string TrainedOnKey = "iar.extractor.trained_on";
    const string StepsKey = "iar.extractor.steps";
    const string SeedKey = "iar.extractor.seed";
    const string AccuracyKey = "iar.extractor.test_accuracy";
    const string TestCountKey = "iar.extractor.test_count";

    public ClassifierFeatureExtractor(SmallCnnClassifier model, FeatureExtractorProvenance provenance)
    {
        Model = model;
        Provenance = provenance;
        Model.eval();
    }

    public SmallCnnClassifier Model { get; }

    public FeatureExtractorProvenance Provenance { get; private set; }

    public int FeatureDimension => Model.Config.FeatureDimension;

    public int NumClasses => Model.Config.NumClasses;

    public string Description =>
        $"small CNN ({FeatureDimension}-d features, {NumClasses} classes, {Model.Config.ImageSize}×{Model.Config.ImageSize}×{Model.Config.Channels} input, " +
        $"{Provenance.Steps} training steps, " +
        (Provenance.TestAccuracy is double a ? $"test accuracy {a * 100:F1} % on {Provenance.TestCount} images)" : "test accuracy not measured)");

    public ExtractedFeatures Extract(Tensor images, int batchSize = 256)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be ≥ 1");
        using var outer = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Model.eval();
        var features = new List<Tensor>();
        var logits = new List<Tensor>();
        long n = images.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var x = PrepareInput(images.narrow(0, start, Math.Min(batchSize, n - start)));
            var f = Model.Features(x);                                          // [b, D]
            features.Add(f.MoveToOuterDisposeScope());
            logits.Add(Model.Classify(f).MoveToOuterDisposeScope());          // [b, K]
        }
        var allFeatures = features.Count == 0 ? torch.zeros(0, FeatureDimension) : torch.cat(features, 0);   // [N, D]
        var allLogits = logits.Count == 0 ? torch.zeros(0, NumClasses) : torch.cat(logits, 0);               // [N, K]
        return new ExtractedFeatures(allFeatures.MoveToOuterDisposeScope(), allLogits.MoveToOuterDisposeScope());
    }

    /// <summary>[N, C, H, W] in [-1, 1] → float32 [N, channels, S, S] on the model's device, as the model was trained.</summary>
    public Tensor PrepareInput(Tensor images)
    {
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be [N, C, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        var config = Model.Config;
        var x = images.to(ScalarType.Float32);
        long c = x.shape[1];
        if (c != config.Channels)
        {
            x = (c, config.Channels) switch
            {
                (3, 1) => x.mean([1], keepdim: true),
                (1, 3) => x.expand(-1, 3, -1, -1),
                _ => throw new ArgumentException(
                    $"The feature extractor takes {config.Channels}-channel images (or 1/3 channels it converts); got {c} channels.", nameof(images)),
            };
        }
        if (x.shape[2] != config.ImageSize || x.shape[3] != config.ImageSize)
            x = nn.functional.interpolate(x, [config.ImageSize, config.ImageSize], mode: InterpolationMode.Bilinear,
                align_corners: false, antialias: x.shape[2] > config.ImageSize);
        return x;
    }

    /// <summary>Top-1 accuracy of the classifier on labelled images.</summary>
    public double Accuracy(LabelledImages images, int batchSize = 256)
    {
        using var extracted = Extract(images.Images, batchSize);
        using var correct = extracted.Logits.argmax(1).eq(images.Labels);
        return correct.to(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>Records a measured test accuracy (kept in the checkpoint by <see cref="Save"/>).</summary>
    public void SetTestAccuracy(double accuracy, long count) => Provenance = Provenance with { TestAccuracy = accuracy, TestCount = count };

    /// <summary>Writes weights, config and provenance as one safetensors file (atomically).</summary>
    public void Save(string path)
    {
        var metadata = new Dictionary<string, string>
        {
            [KindKey] = Kind,
            [ConfigKey] = Model.Config.ToJson(),
            [TrainedOnKey] = Provenance.TrainedOn,
            [StepsKey] = Provenance.Steps.ToString(CultureInfo.InvariantCulture),
            [SeedKey] = Provenance.Seed.ToString(CultureInfo.InvariantCulture),
            [TestCountKey] = Provenance.TestCount.ToString(CultureInfo.InvariantCulture),
        };
        if (Provenance.TestAccuracy is double a) metadata[AccuracyKey] = a.ToString("R", CultureInfo.InvariantCulture);
        StateDict.Save(Model, path, metadata);
    }

    /// <summary>Loads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">It is not a small-CNN extractor checkpoint, or its tensors do not fit.</exception>
    public static ClassifierFeatureExtractor Load(string path)
    {
        var header = SafeTensorsFile.Open(path);
        var kind = FeatureExtractorCheckpoint.KindOf(header);
        if (kind != Kind)
            throw new InvalidDataException($"{path} is a '{kind}' feature extractor checkpoint; this loader reads '{Kind}' checkpoints written by iar.");
        if (!header.Metadata.TryGetValue(ConfigKey, out var configJson))
            throw new InvalidDataException($"{path} has no '{ConfigKey}' metadata; it was not written by iar's small-CNN extractor.");
        var model = new SmallCnnClassifier(SmallCnnConfig.FromJson(configJson, path));
        StateDict.Load(model, path, "the small-CNN feature extractor");
        string Meta(string key) => header.Metadata.TryGetValue(key, out var v) ? v : "";
        double? accuracy = double.TryParse(Meta(AccuracyKey), NumberStyles.Float, CultureInfo.InvariantCulture, out var acc) ? acc : null;
        var provenance = new FeatureExtractorProvenance(
            Meta(TrainedOnKey),
            int.TryParse(Meta(StepsKey), CultureInfo.InvariantCulture, out var steps) ? steps : 0,
            int.TryParse(Meta(SeedKey), CultureInfo.InvariantCulture, out var seed) ? seed : 0,
            accuracy,
            long.TryParse(Meta(TestCountKey), CultureInfo.InvariantCulture, out var count) ? count : 0);
        return new ClassifierFeatureExtractor(model, provenance);
    }

    public void Dispose() => Model.Dispose();
}
