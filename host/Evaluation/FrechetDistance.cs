using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// The Fréchet distance between two Gaussians (FID when the Gaussians summarise Inception-style features):
/// d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½.
/// </summary>
/// <remarks>
/// tr (Σ₁Σ₂)^½ is computed without a general matrix square root: Σ₁Σ₂ is similar to the symmetric positive
/// semi-definite S = Σ₁^½ Σ₂ Σ₁^½ (Σ₁^½ from a symmetric eigendecomposition), so its square root has the trace
/// Σᵢ √λᵢ(S). Everything is float64. Safeguards: inputs are symmetrised, eigenvalues that rounding pushed below zero
/// are clamped to zero (both covariances are PSD, so S is too), which also makes rank-deficient covariances
/// (fewer samples than dimensions) well defined where scipy's sqrtm would need pytorch-fid's ε·I offset.
/// </remarks>
public static class FrechetDistance
{
    public static double Compute(FeatureStatistics a, FeatureStatistics b) => Compute(a.Mean, a.Covariance, b.Mean, b.Covariance);

    /// <param name="mean1">[D]</param>
    /// <param name="covariance1">[D, D], positive semi-definite</param>
    /// <param name="mean2">[D]</param>
    /// <param name="covariance2">[D, D], positive semi-definite</param>
    /// <exception cref="ArgumentException">Shapes disagree or values are not finite.</exception>
    public static double Compute(Tensor mean1, Tensor covariance1, Tensor mean2, Tensor covariance2)
    {
        long d = mean1.shape[0];
        if (mean1.dim() != 1 || mean2.dim() != 1 || mean2.shape[0] != d ||
            !covariance1.shape.SequenceEqual([d, d]) || !covariance2.shape.SequenceEqual([d, d]))
            throw new ArgumentException(
                $"Fréchet distance needs means [D] and covariances [D, D] of one D; got [{string.Join(", ", mean1.shape)}], " +
                $"[{string.Join(", ", covariance1.shape)}], [{string.Join(", ", mean2.shape)}], [{string.Join(", ", covariance2.shape)}].");
        using var scope = torch.NewDisposeScope();
        var mu1 = mean1.to(ScalarType.Float64);
        var mu2 = mean2.to(ScalarType.Float64);
        var s1 = Symmetric(covariance1.to(ScalarType.Float64));
        var s2 = Symmetric(covariance2.to(ScalarType.Float64));
        foreach (var t in new[] { mu1, mu2, s1, s2 })
            if (!t.isfinite().all().item<bool>())
                throw new ArgumentException("Fréchet distance inputs hold NaN or infinite values.");

        var diff = mu1 - mu2;
        double meanTerm = diff.dot(diff).item<double>();
        var root1 = SquareRoot(s1);                                    // Σ₁^½ [D, D]
        var inner = Symmetric(root1.matmul(s2).matmul(root1));        // S = Σ₁^½ Σ₂ Σ₁^½ [D, D]
        var eigenvalues = torch.linalg.eigvalsh(inner).clamp_min(0);  // [D]
        double traceSqrt = eigenvalues.sqrt().sum().item<double>();
        double distance = meanTerm + s1.trace().item<double>() + s2.trace().item<double>() - 2 * traceSqrt;
        // d² ≥ 0 exactly; identical inputs give a rounding residue of either sign around 1e-12·tr Σ.
        return Math.Max(distance, 0);
    }

    /// <summary>The PSD square root of a symmetric matrix via eigh, with negative rounding eigenvalues clamped.</summary>
    static Tensor SquareRoot(Tensor symmetric)
    {
        var (values, vectors) = torch.linalg.eigh(symmetric);         // [D], [D, D] (columns)
        return (vectors * values.clamp_min(0).sqrt().unsqueeze(0)).matmul(vectors.t());
    }

    static Tensor Symmetric(Tensor m) => (m + m.t()) * 0.5;
}
