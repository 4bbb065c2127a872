using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>Evaluates the loss terms of one training step on the same logits (token CE below, cluster CE in its own file).</summary>
public static class LossTerms
{
    /// <summary>
    /// One unweighted value per term, in order. Terms that work from log-probabilities
    /// (<see cref="ILogProbabilityLossTerm"/>: token CE, cluster CE) share one <c>log_softmax</c> over [B·L, V]; the
    /// others get the raw logits. With token CE + cluster CE this is what keeps IAR's extra term to a gather of the
    /// target cluster's m log-probabilities per position instead of a second pass over the whole vocabulary.
    /// </summary>
    /// <param name="logits">float [B, L, V].</param>
    /// <param name="targets">int64 [B, L].</param>
    public static Tensor[] ComputeAll(IReadOnlyList<ILossTerm> terms, Tensor logits, Tensor targets)
    {
        Tensor? logProbabilities = null, flatTargets = null;
        var values = new Tensor[terms.Count];
        for (int i = 0; i < terms.Count; i++)
        {
            values[i] = terms[i] is ILogProbabilityLossTerm shared
                ? shared.ComputeFromLogProbabilities(
                    logProbabilities ??= logits.reshape(-1, logits.shape[^1]).log_softmax(-1),
                    flatTargets ??= targets.reshape(-1))
                : terms[i].Compute(logits, targets);
        }
        return values;
    }

    /// <summary>Σ weight·value: the loss that is back-propagated.</summary>
    public static Tensor WeightedSum(IReadOnlyList<ILossTerm> terms, IReadOnlyList<Tensor> values) =>
        values.Zip(terms, (value, term) => value * term.Weight).Aggregate((a, b) => a + b);
}

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
