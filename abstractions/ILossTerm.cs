using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>
/// One term of a generator's training loss, unweighted: the weights belong to the objective that sums the terms
/// (the host's <c>GeneratorLoss</c>), which logs every term separately.
/// <para>
/// A term with a public parameterless constructor in the host or in a plugin's assembly is an <em>extra</em> term an
/// experiment can add by its <see cref="Name"/>: <c>training.loss: {z_loss: 1e-4}</c>. Writing that class is all it
/// takes.
/// </para>
/// </summary>
public interface ILossTerm
{
    /// <summary>Short name used in YAML, logs and metrics (<c>loss/&lt;name&gt;</c>), e.g. <c>token_ce</c>, <c>cluster_ce</c>.</summary>
    string Name { get; }

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
