using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Losses;

/// <summary>The default loss term: cross-entropy of the token logits against the target indices (mean over B·L).</summary>
/// <param name="Weight">Multiplier in the total loss.</param>
/// <param name="LabelSmoothing">Label smoothing in [0, 1) (PyTorch's definition: ε spread uniformly over the V classes).</param>
public sealed record TokenCrossEntropy(double Weight = 1.0, double LabelSmoothing = 0.0) : ILogProbabilityLossTerm
{
    public string Name => "token_ce";

    public Tensor Compute(Tensor logits, Tensor targets)
    {
        long vocab = logits.shape[^1];
        return nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), label_smoothing: LabelSmoothing);
    }

    /// <summary>(1 − ε)·NLL + ε·mean over the vocabulary of −log p.</summary>
    public Tensor ComputeFromLogProbabilities(Tensor logProbabilities, Tensor targets)
    {
        var nll = nn.functional.nll_loss(logProbabilities, targets);
        if (LabelSmoothing == 0) return nll;
        using var scope = torch.NewDisposeScope();
        return ((1 - LabelSmoothing) * nll - LabelSmoothing * logProbabilities.mean()).MoveToOuterDisposeScope();
    }
}
