using IAR.Host.Experiments;

namespace IAR.Host.Evaluation;

/// <summary>
/// What every evaluation of a run shares: the feature extractor (loaded from <c>evaluation.feature_extractor</c>, or
/// the small CNN trained on the training set once and cached) and the reference features of the real training images.
/// </summary>
public sealed class EvaluationResources : IDisposable
{
    EvaluationResources(IFeatureExtractor extractor, ReferenceFeatures reference, FeatureExtractorSummary summary)
    {
        Extractor = extractor;
        Reference = reference;
        Summary = summary;
    }

    public IFeatureExtractor Extractor { get; }

    public ReferenceFeatures Reference { get; }

    public FeatureExtractorSummary Summary { get; }

    /// <summary>Loads or trains the extractor and computes the reference; call once per run, after <see cref="EvaluationValidation"/>.</summary>
    /// <param name="evaluation">The run's evaluation section (arms share the extractor; validation checks they agree).</param>
    /// <param name="train">Real training images: the classifier's training set and the FID/precision/recall reference.</param>
    /// <param name="test">Real held-out images: the classifier's test accuracy and the real-image Inception Score.</param>
    /// <param name="numClasses">K of the data.</param>
    /// <param name="cacheFolder">Where trained extractors are cached (keyed by a hash of their training data).</param>
    /// <param name="seed">Seed of the extractor's training.</param>
    public static EvaluationResources Prepare(EvaluationSpec evaluation, LabelledImages train, LabelledImages test, int numClasses,
        string cacheFolder, int seed = 0, Action<string>? log = null)
    {
        IFeatureExtractor extractor = evaluation.FeatureExtractor is { } path
            ? FeatureExtractorCheckpoint.Load(path)
            : FeatureExtractorTrainer.LoadOrTrain(cacheFolder, train, test, numClasses,
                new FeatureExtractorTrainingOptions(evaluation.FeatureExtractorSteps, Seed: seed), log);
        try
        {
            var reference = ReferenceFeatures.Compute(extractor, train.Images, evaluation.BatchSize);
            double realScore;
            using (var real = extractor.Extract(test.Images, evaluation.BatchSize)) realScore = InceptionScore.Compute(real.Logits);
            double? accuracy = extractor is ClassifierFeatureExtractor c ? c.Provenance.TestAccuracy : null;
            var summary = new FeatureExtractorSummary(extractor.Description, extractor.FeatureDimension, extractor.NumClasses, accuracy,
                reference.Count, realScore);
            log?.Invoke($"evaluation reference: {reference.Count} real images; Inception Score of the real held-out images {realScore:F3}");
            return new EvaluationResources(extractor, reference, summary);
        }
        catch
        {
            (extractor as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>Writes <see cref="Summary"/> to the run directory for the report.</summary>
    public void WriteSummary(string runDirectory) =>
        Summary.Write(Path.Combine(runDirectory, RunDirectoryLayout.FeatureExtractorSummary));

    public void Dispose()
    {
        Reference.Dispose();
        (Extractor as IDisposable)?.Dispose();
    }
}
