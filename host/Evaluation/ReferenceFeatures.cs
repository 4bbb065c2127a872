using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// The real images generated samples are compared with, seen through a feature extractor: their features [N, D]
/// (for precision/recall) and Gaussian statistics (for FID). Computed once per run and shared by every arm.
/// </summary>
public sealed class ReferenceFeatures : IDisposable
{
    ReferenceFeatures(Tensor features, FeatureStatistics statistics)
    {
        Features = features;
        Statistics = statistics;
    }

    /// <summary>float32 [N, D].</summary>
    public Tensor Features { get; }

    public FeatureStatistics Statistics { get; }

    public long Count => Features.shape[0];

    /// <param name="images">float [N, C, H, W] in [-1, 1], the real reference images (the training set, as in the ADM evaluator).</param>
    public static ReferenceFeatures Compute(IFeatureExtractor extractor, Tensor images, int batchSize = 256)
    {
        using var extracted = extractor.Extract(images, batchSize);
        return FromFeatures(extracted.Features.clone());
    }

    /// <summary>Takes ownership of <paramref name="features"/> [N, D].</summary>
    public static ReferenceFeatures FromFeatures(Tensor features) => new(features, FeatureStatistics.FromFeatures(features));

    public void Dispose()
    {
        Features.Dispose();
        Statistics.Dispose();
    }
}
