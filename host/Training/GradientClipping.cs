using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>Clipping of the global gradient norm, as <c>torch.nn.utils.clip_grad_norm_</c> computes it.</summary>
public static class GradientClipping
{
    /// <summary>
    /// The L2 norm of all gradients together (before clipping); when <paramref name="maxNorm"/> &gt; 0 and the norm
    /// exceeds it, every gradient is scaled by maxNorm / (norm + 1e-6). NaN or infinity is returned as is.
    /// </summary>
    public static double ClipGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        using var scope = torch.NewDisposeScope();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return 0;
        var total = torch.stack(grads.Select(g => g.detach().norm()).ToArray()).norm();   // scalar
        double norm = total.to(ScalarType.Float64).item<double>();
        if (maxNorm > 0 && double.IsFinite(norm))
        {
            var coefficient = (maxNorm / (total + 1e-6)).clamp_max(1.0);
            using var noGrad = torch.no_grad();
            foreach (var g in grads) g.mul_(coefficient);
        }
        return norm;
    }
}
