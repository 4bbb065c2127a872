using IAR.Host.Runs;
using IAR.Host.Experiments;

namespace IAR.Host.Evaluation;

/// <summary>
/// What every evaluation of a run shares: the feature extractor (loaded from <c>evaluation.feature_extractor</c>, or
/// the small CNN trained on the training set once and cached), the reference features of the real training images, and
/// the FID noise floor at each evaluation sample count (real held-out images against that reference).
/// </summary>
public sealed class EvaluationResources : IDisposable
{
    EvaluationResources(IFeatureExtractor extractor, ReferenceFeatures reference, FeatureExtractorSummary summary, NoiseFloors noiseFloors, bool loaded)
    {
        Extractor = extractor;
        Reference = reference;
        Summary = summary;
        NoiseFloors = noiseFloors;
        LoadedFromCache = loaded;
    }

    /// <summary>Whether the reference, summary and floors came from the run's cache (<see cref="EvaluationResourcesCache"/>) rather than the images.</summary>
    public bool LoadedFromCache { get; }

    public IFeatureExtractor Extractor { get; }

    public ReferenceFeatures Reference { get; }

    public FeatureExtractorSummary Summary { get; }

    /// <summary>One floor per sample count asked for (none when FID is not among the metrics).</summary>
    public NoiseFloors NoiseFloors { get; }

    /// <summary>Seeds of the noise floor's draws are offset from the run seed, apart from the sampling and training streams.</summary>
    public const ulong NoiseFloorSeedOffset = 4_242_000;

    /// <summary>Loads or trains the extractor and computes the reference; call once per run, after <see cref="EvaluationValidation"/>.</summary>
    /// <param name="evaluation">The run's evaluation section (arms share the extractor; validation checks they agree).</param>
    /// <param name="train">Real training images: the classifier's training set and the FID/precision/recall reference.</param>
    /// <param name="test">Real held-out images: the classifier's test accuracy and the real-image Inception Score.</param>
    /// <param name="numClasses">K of the data.</param>
    /// <param name="cacheFolder">Where trained extractors are cached (keyed by a hash of their training data).</param>
    /// <param name="seed">Seed of the extractor's training and of the noise floor's draws.</param>
    /// <param name="floorSampleCounts">The <c>num_samples</c> of every arm that scores FID (null: <paramref name="evaluation"/>'s).</param>
    /// <param name="cache">Where the run keeps the computed resources, or null to compute them every time.</param>
    public static EvaluationResources Prepare(EvaluationSpec evaluation, LabelledImages train, LabelledImages test, int numClasses,
        string cacheFolder, int seed = 0, Action<string>? log = null, IReadOnlyCollection<int>? floorSampleCounts = null,
        EvaluationResourcesCache? cache = null)
    {
        IFeatureExtractor extractor = evaluation.FeatureExtractor is { } path
            ? FeatureExtractorCheckpoint.Load(path)
            : FeatureExtractorTrainer.LoadOrTrain(cacheFolder, train, test, numClasses,
                new FeatureExtractorTrainingOptions(evaluation.FeatureExtractorSteps, Seed: seed), log);
        try
        {
            return Create(extractor, evaluation, train, test, seed, log, floorSampleCounts, cache);
        }
        catch
        {
            (extractor as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The resources around a given extractor (owned from here on): the reference features of <paramref name="train"/>,
    /// the real-image Inception Score and a noise floor per sample count from <paramref name="test"/>; loaded from
    /// <paramref name="cache"/> instead when it holds them for these inputs, and saved there when computed.
    /// </summary>
    public static EvaluationResources Create(IFeatureExtractor extractor, EvaluationSpec evaluation, LabelledImages train, LabelledImages test,
        int seed = 0, Action<string>? log = null, IReadOnlyCollection<int>? floorSampleCounts = null, EvaluationResourcesCache? cache = null)
    {
        int[] floorCounts = evaluation.Metrics.Contains(ImageMetric.Fid) || floorSampleCounts is { Count: > 0 }
            ? (floorSampleCounts ?? [evaluation.NumSamples]).Distinct().Order().ToArray()
            : [];
        string? fingerprint = cache?.Fingerprint(extractor, evaluation, seed, floorCounts);
        if (cache is not null)
        {
            if (cache.TryLoad(fingerprint!, out var why) is var (cachedReference, cachedSummary, cachedFloors))
            {
                log?.Invoke($"evaluation reference: loaded from {cache.Path} ({cachedReference.Count} real images, fingerprint {fingerprint})");
                return new EvaluationResources(extractor, cachedReference, cachedSummary, cachedFloors, loaded: true);
            }
            log?.Invoke($"evaluation reference: computing it ({why})");
        }
        var reference = ReferenceFeatures.Compute(extractor, train.Images, evaluation.BatchSize);
        try
        {
            double realScore;
            using (var real = extractor.Extract(test.Images, evaluation.BatchSize)) realScore = InceptionScore.Compute(real.Logits);
            double? accuracy = extractor is ClassifierFeatureExtractor c ? c.Provenance.TestAccuracy : null;
            var summary = new FeatureExtractorSummary(extractor.Description, extractor.FeatureDimension, extractor.NumClasses, accuracy,
                reference.Count, realScore);
            log?.Invoke($"evaluation reference: {reference.Count} real images; Inception Score of the real held-out images {realScore:F3}");
            var floors = new List<NoiseFloor>();
            foreach (int n in floorCounts)
            {
                var floor = NoiseFloor.Measure(extractor, reference.Statistics, reference.Count, test.Images, n,
                    NoiseFloorSeedOffset + (ulong)seed, batchSize: evaluation.BatchSize);
                floors.Add(floor);
                log?.Invoke($"FID noise floor at N = {n}: {floor.Describe()}");
            }
            var noiseFloors = new NoiseFloors(floors);
            cache?.Save(fingerprint!, reference, summary, noiseFloors);
            return new EvaluationResources(extractor, reference, summary, noiseFloors, loaded: false);
        }
        catch
        {
            reference.Dispose();
            throw;
        }
    }

    /// <summary>Writes <see cref="Summary"/> and <see cref="NoiseFloors"/> to the run directory for the report.</summary>
    public void WriteSummary(string runDirectory)
    {
        Summary.Write(Path.Combine(runDirectory, RunLayout.FeatureExtractorSummary));
        NoiseFloors.Write(Path.Combine(runDirectory, RunLayout.NoiseFloor));
    }

    public void Dispose()
    {
        Reference.Dispose();
        (Extractor as IDisposable)?.Dispose();
    }
}
