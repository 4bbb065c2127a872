using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>Clipping of the global gradient norm, as <c>torch.nn.utils.clip_grad_norm_</c> computes it.</summary>
public static class GradientClipping
{
    /// <summary>
    /// The L2 norm of all gradients together (before clipping); when <paramref name="maxNorm"/> &gt; 0 and the norm
    /// exceeds it, every gradient is scaled by maxNorm / (norm + 1e-6). NaN or infinity is returned as is. Reads the
    /// norm back to the host: one synchronisation; <see cref="Clip"/> is the same without it.
    /// </summary>
    public static double ClipGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        using var norm = Clip(parameters, maxNorm);
        return HostRead.Double(norm.to(ScalarType.Float64));
    }

    /// <summary>
    /// <see cref="ClipGlobalNorm"/> without reading anything back: returns the norm as a scalar tensor on the
    /// gradients' device (0 without gradients), so a trainer can collect it and read it once per logging interval.
    /// A non-finite norm leaves the gradients unscaled, decided on the device.
    /// </summary>
    public static Tensor Clip(IEnumerable<Parameter> parameters, double maxNorm)
    {
        using var scope = torch.NewDisposeScope();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return torch.zeros([]).MoveToOuterDisposeScope();
        var total = torch.stack(grads.Select(g => g.detach().norm()).ToArray()).norm();   // scalar
        if (maxNorm > 0)
        {
            // [] : min(1, maxNorm / (norm + 1e-6)) where the norm is finite, else 1 (multiplying by 1 is exact)
            var coefficient = (maxNorm / (total + 1e-6)).clamp_max(1.0).masked_fill(total.isfinite().logical_not(), 1.0);
            using var noGrad = torch.no_grad();
            foreach (var g in grads) g.mul_(coefficient);
        }
        return total.MoveToOuterDisposeScope();
    }
}
