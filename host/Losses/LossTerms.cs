using IAR.Abstractions;
using static TorchSharp.torch;

namespace IAR.Host.Losses;

/// <summary>Evaluates the loss terms of one training step on the same logits.</summary>
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
