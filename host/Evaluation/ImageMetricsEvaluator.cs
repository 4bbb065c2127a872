using IAR.Host.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// FID, Inception Score, precision/recall and class accuracy of generated images against a real reference set.
/// </summary>
/// <param name="extractor">Sees both the generated and the reference images.</param>
/// <param name="reference">Features of the real images (same extractor).</param>
/// <param name="metrics">Which image metrics to compute (token metrics are ignored here).</param>
/// <param name="precisionRecallK">k of the k-NN manifolds.</param>
/// <param name="batchSize">Images per extractor forward.</param>
public sealed class ImageMetricsEvaluator(
    IFeatureExtractor extractor, ReferenceFeatures reference, IReadOnlyCollection<ImageMetric> metrics, int precisionRecallK = 3,
    int batchSize = 256)
{
    /// <summary>Seed of the reference subset precision/recall uses, fixed so every arm and step sees the same one.</summary>
    const ulong ReferenceSubsetSeed = 20190401;

    public IFeatureExtractor Extractor { get; } = extractor;

    /// <summary>Metrics of <paramref name="generated"/>: images [N, C, H, W] in [-1, 1] with the labels they were conditioned on.</summary>
    /// <exception cref="ArgumentException">Too few samples for a requested metric (see <see cref="EvaluationRequirements"/>).</exception>
    public ImageMetricsResult Evaluate(LabelledImages generated)
    {
        using var extracted = Extractor.Extract(generated.Images, batchSize);
        return Score(extracted, generated.Labels);
    }

    /// <summary>
    /// The same metrics from images arriving batch by batch (each batch is disposed after its forward pass): only the
    /// features [N, D], logits [N, K] and labels are kept, never the images, so 50,000 samples of any size fit.
    /// </summary>
    /// <param name="labelled">False when the batches carry no conditioning labels (class accuracy is then refused).</param>
    public ImageMetricsResult Evaluate(IEnumerable<LabelledImages> batches, bool labelled = true)
    {
        var features = new List<Tensor>();
        var logits = new List<Tensor>();
        var labels = new List<Tensor>();
        try
        {
            foreach (var batch in batches)
                using (batch)
                using (var e = Extractor.Extract(batch.Images, batchSize))
                {
                    features.Add(e.Features.detach().clone());
                    logits.Add(e.Logits.detach().clone());
                    labels.Add(batch.Labels.clone());
                }
            if (!labelled && metrics.Contains(ImageMetric.ClassAccuracy))
                throw new ArgumentException("Class accuracy needs the labels the samples were conditioned on; these samples have none (an .npz without arr_1, or PNGs without -classN in their names).");
            using var all = new ExtractedFeatures(Cat(features, Extractor.FeatureDimension), Cat(logits, Extractor.NumClasses));
            using var y = labels.Count == 0 ? torch.zeros(0, ScalarType.Int64) : torch.cat(labels, 0);
            return Score(all, y);
        }
        finally
        {
            foreach (var t in features.Concat(logits).Concat(labels)) t.Dispose();
        }
    }

    static Tensor Cat(List<Tensor> parts, int width) => parts.Count == 0 ? torch.zeros(0, width) : torch.cat(parts, 0);

    ImageMetricsResult Score(ExtractedFeatures extracted, Tensor labels)
    {
        long count = extracted.Features.shape[0];
        foreach (var problem in EvaluationRequirements.SampleCountProblems(metrics, count, Extractor.FeatureDimension, precisionRecallK))
            throw new ArgumentException(problem);
        if (metrics.Contains(ImageMetric.ClassAccuracy) && count > 0 &&
            (labels.min().item<long>() < 0 || labels.max().item<long>() >= Extractor.NumClasses))
            throw new ArgumentException(
                $"Class accuracy needs labels in [0, {Extractor.NumClasses}) (the feature extractor's classes); the samples are labelled from {labels.min().item<long>()} to {labels.max().item<long>()}.");
        using var scope = torch.NewDisposeScope();
        double? fid = null, score = null, precision = null, recall = null, accuracy = null;
        if (metrics.Contains(ImageMetric.Fid))
        {
            using var statistics = FeatureStatistics.FromFeatures(extracted.Features);
            fid = FrechetDistance.Compute(statistics, reference.Statistics);
        }
        if (metrics.Contains(ImageMetric.InceptionScore)) score = InceptionScore.Compute(extracted.Logits);
        if (metrics.Contains(ImageMetric.PrecisionRecall))
            (precision, recall) = PrecisionRecall.Compute(ReferenceSubset(count), extracted.Features, precisionRecallK);
        if (metrics.Contains(ImageMetric.ClassAccuracy))
            accuracy = extracted.Logits.argmax(1).eq(labels).to(ScalarType.Float64).mean().item<double>();
        return new ImageMetricsResult(fid, score, precision, recall, accuracy);
    }

    /// <summary>
    /// [min(N, count), D] reference features: precision and recall depend on the set sizes, so they are measured with
    /// as many real as generated samples (a fixed random subset when the reference is larger), as the ADM evaluator does.
    /// </summary>
    Tensor ReferenceSubset(long count)
    {
        if (reference.Count <= count) return reference.Features;
        using var g = new torch.Generator(ReferenceSubsetSeed);
        var index = torch.randperm(reference.Count, generator: g).narrow(0, 0, count);
        return reference.Features.index_select(0, index);
    }
}
