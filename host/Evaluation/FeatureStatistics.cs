using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// The Gaussian summary of a feature set that FID compares: the mean [D] and the unbiased covariance [D, D]
/// (divided by N − 1, as numpy.cov and every FID implementation do), both float64.
/// </summary>
public sealed class FeatureStatistics : IDisposable
{
    FeatureStatistics(Tensor mean, Tensor covariance, long count)
    {
        Mean = mean;
        Covariance = covariance;
        Count = count;
    }

    /// <summary>float64 [D].</summary>
    public Tensor Mean { get; }

    /// <summary>float64 [D, D], symmetric.</summary>
    public Tensor Covariance { get; }

    /// <summary>N, the number of feature vectors summarised.</summary>
    public long Count { get; }

    public int Dimension => (int)Mean.shape[0];

    /// <summary>The statistics of <paramref name="features"/> [N, D] (any float dtype; computed in float64).</summary>
    /// <exception cref="ArgumentException">Fewer than 2 rows, or non-finite values.</exception>
    public static FeatureStatistics FromFeatures(Tensor features)
    {
        if (features.dim() != 2) throw new ArgumentException($"Features must be [N, D]; got [{string.Join(", ", features.shape)}].", nameof(features));
        long n = features.shape[0];
        if (n < 2) throw new ArgumentException($"A covariance needs at least 2 feature vectors; got {n}.", nameof(features));
        using var scope = torch.NewDisposeScope();
        var x = features.detach().to(ScalarType.Float64);                 // [N, D]
        if (!x.isfinite().all().item<bool>())
            throw new ArgumentException("The features hold NaN or infinite values; the images or the feature extractor are broken.", nameof(features));
        var mean = x.mean([0]);                                            // [D]
        var centred = x - mean;
        var covariance = centred.t().matmul(centred) / (n - 1);           // [D, D]
        return new FeatureStatistics(mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope(), n);
    }

    /// <summary>Statistics given directly (e.g. from a fixture); the tensors are copied to float64.</summary>
    public static FeatureStatistics FromMoments(Tensor mean, Tensor covariance, long count)
    {
        if (mean.dim() != 1 || covariance.dim() != 2 || covariance.shape[0] != mean.shape[0] || covariance.shape[1] != mean.shape[0])
            throw new ArgumentException(
                $"Expected a mean [D] and a covariance [D, D]; got [{string.Join(", ", mean.shape)}] and [{string.Join(", ", covariance.shape)}].");
        return new FeatureStatistics(mean.detach().to(ScalarType.Float64).clone(), covariance.detach().to(ScalarType.Float64).clone(), count);
    }

    public void Dispose()
    {
        Mean.Dispose();
        Covariance.Dispose();
    }
}
