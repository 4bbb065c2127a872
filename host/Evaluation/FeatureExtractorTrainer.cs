using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Trains the small CNN feature extractor on a labelled training set, and caches it: the checkpoint is named by a
/// hash of what it was trained on (images, labels, architecture, options), so every run on the same data reuses it
/// and a different dataset or setting can never pick up a stale one.
/// </summary>
public static class FeatureExtractorTrainer
{
    /// <summary>Bumped when the architecture or training procedure changes, so old caches are not reused.</summary>
    const string Version = "small-cnn-v1";

    /// <summary>The cached extractor for this training set and options, training and caching it first if needed.</summary>
    /// <param name="cacheFolder">Folder of cached extractors (created if missing).</param>
    /// <param name="train">Training images; the classifier learns their labels.</param>
    /// <param name="test">Held-out images; the test accuracy is measured on them and recorded.</param>
    /// <param name="numClasses">K; labels must lie in [0, K).</param>
    /// <param name="log">Progress lines (training, loading, accuracy).</param>
    public static ClassifierFeatureExtractor LoadOrTrain(string cacheFolder, LabelledImages train, LabelledImages test,
        int numClasses, FeatureExtractorTrainingOptions options, Action<string>? log = null)
    {
        var config = ConfigFor(train, numClasses, options);
        var key = CacheKey(train, config, options);
        var path = Path.Combine(cacheFolder, $"{Version}-{key}.safetensors");
        if (File.Exists(path))
        {
            var cached = ClassifierFeatureExtractor.Load(path);
            if (cached.Provenance.TrainedOn == key)
            {
                log?.Invoke($"feature extractor: cached {path}: {cached.Description}");
                return cached;
            }
            cached.Dispose();
        }
        var extractor = Train(train, config, options, key, log);
        extractor.SetTestAccuracy(extractor.Accuracy(test), test.Count);
        log?.Invoke($"feature extractor: {extractor.Description}; cached as {path}");
        extractor.Save(path);
        return extractor;
    }

    /// <summary>Trains a fresh classifier (Adam, cosine decay, random horizontal flips); test accuracy not yet measured.</summary>
    public static ClassifierFeatureExtractor Train(LabelledImages train, int numClasses, FeatureExtractorTrainingOptions options,
        Action<string>? log = null)
    {
        var config = ConfigFor(train, numClasses, options);
        return Train(train, config, options, CacheKey(train, config, options), log);
    }

    static ClassifierFeatureExtractor Train(LabelledImages train, SmallCnnConfig config, FeatureExtractorTrainingOptions options, string key,
        Action<string>? log)
    {
        if (options.Steps < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Steps, "steps must be ≥ 0");
        CheckLabels(train.Labels, config.NumClasses);
        torch.manual_seed(options.Seed);                                  // initialisation
        var model = new SmallCnnClassifier(config);
        var extractor = new ClassifierFeatureExtractor(model, new FeatureExtractorProvenance(key, options.Steps, options.Seed, null, 0));
        if (options.Steps == 0) return extractor;

        using var order = new torch.Generator((ulong)options.Seed + 1);  // batch order and flips
        var optimizer = torch.optim.Adam(model.parameters(), options.Lr);
        long n = train.Count;
        int batch = (int)Math.Min(options.BatchSize, n);
        Tensor permutation = torch.randperm(n, generator: order);
        long cursor = 0;
        model.train();
        double recentLoss = 0;
        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            if (cursor + batch > n)
            {
                permutation.Dispose();
                permutation = torch.randperm(n, generator: order).MoveToOuterDisposeScope();
                cursor = 0;
            }
            var index = permutation.narrow(0, cursor, batch);
            cursor += batch;
            var x = extractor.PrepareInput(train.Images.index_select(0, index));   // [b, C, S, S]
            var flip = torch.rand([batch], generator: order).lt(0.5).view(-1, 1, 1, 1);
            x = torch.where(flip, x.flip(3), x);
            var y = train.Labels.index_select(0, index);

            double lr = options.Lr * 0.5 * (1 + Math.Cos(Math.PI * step / options.Steps));
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(x), y);
            loss.backward();
            optimizer.step();
            recentLoss = 0.9 * recentLoss + 0.1 * loss.item<float>();
            if (log is not null && ((step + 1) % 100 == 0 || step + 1 == options.Steps))
                log($"feature extractor: step {step + 1}/{options.Steps}, loss ≈ {recentLoss / (1 - Math.Pow(0.9, step + 1)):F3}");
        }
        permutation.Dispose();
        model.eval();
        return extractor;
    }

    static SmallCnnConfig ConfigFor(LabelledImages train, int numClasses, FeatureExtractorTrainingOptions options)
    {
        var shape = train.Images.shape;                                   // [N, C, H, W]
        if (shape[2] != shape[3])
            throw new ArgumentException($"The feature extractor trains on square images; got {shape[2]}×{shape[3]}.", nameof(train));
        if (train.Count < 1) throw new ArgumentException("The feature extractor needs at least one training image.", nameof(train));
        return new SmallCnnConfig((int)shape[1], (int)shape[2], numClasses, options.Width);
    }

    static void CheckLabels(Tensor labels, int numClasses)
    {
        long min = labels.min().item<long>(), max = labels.max().item<long>();
        if (min < 0 || max >= numClasses)
            throw new ArgumentException($"Training labels span [{min}, {max}], outside the {numClasses} classes [0, {numClasses - 1}].");
    }

    /// <summary>First 16 hex digits of SHA-256 over the version, config, options, image bytes and label bytes.</summary>
    static string CacheKey(LabelledImages train, SmallCnnConfig config, FeatureExtractorTrainingOptions options)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{Version}\n{config.ToJson()}\n{System.Text.Json.JsonSerializer.Serialize(options)}\n"));
        using (var images = train.Images.to(ScalarType.Float32).contiguous()) hash.AppendData(images.bytes);
        using (var labels = train.Labels.contiguous()) hash.AppendData(labels.bytes);
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}

/// <summary>How the small CNN feature extractor is trained (part of its cache key).</summary>
/// <param name="Steps">Optimizer steps (<c>evaluation.feature_extractor_steps</c>).</param>
/// <param name="BatchSize">Images per step.</param>
/// <param name="Lr">Peak Adam learning rate, decayed to zero on a cosine.</param>
/// <param name="Seed">Initialisation, batch order and flips.</param>
/// <param name="Width">First-stage channels; features have 4·Width dimensions.</param>
public sealed record FeatureExtractorTrainingOptions(int Steps, int BatchSize = 128, double Lr = 2e-3, int Seed = 0, int Width = 32)
{
    /// <summary>D of the extractor these options train.</summary>
    public int FeatureDimension => SmallCnnConfig.FeaturesPerWidth * Width;
}

/// <summary>What a cached feature extractor was trained on and how well it classifies; kept in its checkpoint.</summary>
/// <param name="TrainedOn">First 16 hex digits of the SHA-256 of its training images, labels, config and options.</param>
/// <param name="Steps">Optimizer steps it was trained for.</param>
/// <param name="Seed">Seed of its initialisation and batch order.</param>
/// <param name="TestAccuracy">Top-1 accuracy on the held-out split, null when not measured.</param>
/// <param name="TestCount">Number of held-out images the accuracy was measured on.</param>
public sealed record FeatureExtractorProvenance(string TrainedOn, int Steps, int Seed, double? TestAccuracy, long TestCount);
