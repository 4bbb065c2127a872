using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Inception Score, exp E_x[KL(p(y|x) ‖ p(y))], from a classifier's logits. It is at most the number of classes K
/// (confident and evenly spread predictions) and at least 1 (every image gets the same distribution).
/// </summary>
/// <remarks>
/// Computed over all images at once (one split). The field's 10-split average is biased downwards for small sample
/// counts; our score comes from the project's own classifier and is compared between arms, not with published
/// numbers (those come from the ADM evaluator run on the exported .npz).
/// </remarks>
public static class InceptionScore
{
    /// <param name="logits">[N, K] unnormalised class scores.</param>
    public static double Compute(Tensor logits)
    {
        if (logits.dim() != 2 || logits.shape[0] < 1)
            throw new ArgumentException($"Inception Score needs logits [N ≥ 1, K]; got [{string.Join(", ", logits.shape)}].", nameof(logits));
        using var scope = torch.NewDisposeScope();
        var logP = logits.detach().to(ScalarType.Float64).log_softmax(1);        // [N, K] log p(y|x)
        var logMarginal = logP.logsumexp(0) - Math.Log(logits.shape[0]);          // [K] log p(y)
        var kl = (logP.exp() * (logP - logMarginal)).sum(1);                      // [N]
        return Math.Exp(kl.mean().item<double>());
    }
}
