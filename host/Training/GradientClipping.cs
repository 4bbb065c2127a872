using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>Clipping of the global gradient norm, as <c>torch.nn.utils.clip_grad_norm_</c> computes it.</summary>
public static class GradientClipping
{
    /// <summary>
    /// The L2 norm of all gradients together (before clipping), as a scalar tensor on their device (not read back, so
    /// no host synchronisation); when <paramref name="maxNorm"/> &gt; 0 every gradient is scaled by
    /// min(1, maxNorm / (norm + 1e-6)), which leaves it unchanged, bit for bit, when the norm is below the limit.
    /// A NaN or infinite norm makes the gradients NaN; the trainer stops at its next log step and keeps the last checkpoint.
    /// </summary>
    public static Tensor ClipGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        using var scope = torch.NewDisposeScope();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return torch.zeros([]).MoveToOuterDisposeScope();
        var total = torch.stack(grads.Select(g => g.detach().norm()).ToArray()).norm();   // scalar
        if (maxNorm > 0)
        {
            var coefficient = (maxNorm / (total + 1e-6)).clamp_max(1.0);
            using var noGrad = torch.no_grad();
            foreach (var g in grads) g.mul_(coefficient);
        }
        return total.MoveToOuterDisposeScope();
    }
}
