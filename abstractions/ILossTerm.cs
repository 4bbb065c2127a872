using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>One weighted term of a generator's training loss; the trainer logs every term separately.</summary>
public interface ILossTerm
{
    /// <summary>Short name used in logs and metrics, e.g. <c>token_ce</c>, <c>cluster_ce</c>.</summary>
    string Name { get; }

    double Weight { get; }

    /// <summary>The unweighted scalar value of the term.</summary>
    /// <param name="logits">float [B, L, V].</param>
    /// <param name="targets">int64 [B, L].</param>
    Tensor Compute(Tensor logits, Tensor targets);
}

/// <summary>
/// A loss term that is a function of the token log-probabilities <c>log_softmax(logits)</c>. When a step has several
/// such terms (token CE and cluster CE) the host computes the log-softmax once and hands it to each, so the terms
/// share one softmax pass over [B·L, V] instead of taking one each.
/// </summary>
public interface ILogProbabilityLossTerm : ILossTerm
{
    /// <summary>The same value as <see cref="ILossTerm.Compute"/>, from the log-probabilities.</summary>
    /// <param name="logProbabilities">float [N, V] = log_softmax(logits) with the batch flattened (N = B·L).</param>
    /// <param name="targets">int64 [N].</param>
    Tensor ComputeFromLogProbabilities(Tensor logProbabilities, Tensor targets);
}
