using IAR.Abstractions;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// PaLM's z-loss, <c>mean over positions of logsumexp(logits)²</c>: keeps the softmax normaliser near 1 so that bf16
/// logits do not drift (weight ~1e-4). An extra term (<c>training.loss: {z_loss: 1e-4}</c>); this file is the whole of
/// it, as it is for any term a plugin adds.
/// </summary>
public sealed class ZLoss : ILossTerm
{
    public string Name => "z_loss";

    /// <param name="logits">float [B, L, V].</param>
    public Tensor Compute(Tensor logits, Tensor targets) => logits.logsumexp(-1).square().mean();
}
