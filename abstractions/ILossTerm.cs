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
