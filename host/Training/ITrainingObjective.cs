using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// What the <see cref="Trainer"/> trains and how a batch becomes losses: the tokenizer (images → reconstruction
/// terms) or a generator (tokens → token/cluster cross-entropy). Everything else — optimizer, schedule, clipping,
/// EMA, checkpoints, metrics — is the trainer's and is shared.
/// </summary>
public interface ITrainingObjective
{
    /// <summary>The network whose parameters are trained; its state dict is checkpointed.</summary>
    nn.Module Module { get; }

    /// <summary>The loss terms and their weights, in the order <see cref="Forward"/> returns them (for the log).</summary>
    IReadOnlyList<LossTermInfo> Terms { get; }

    /// <summary>Number of samples the batch indices are drawn from.</summary>
    int DatasetSize { get; }

    /// <summary>What throughput counts (<c>tokens</c>, <c>images</c>); metrics get <c>&lt;unit&gt;_per_s</c>.</summary>
    string ThroughputUnit { get; }

    /// <summary>Units of throughput per sample (L tokens per image for a generator, 1 for a tokenizer).</summary>
    long UnitsPerSample { get; }

    /// <summary>
    /// The loss (its weighted total, and the unweighted value of every term) for each micro-batch of this process's <paramref name="share"/> of the global
    /// batch <paramref name="indices"/> (int64 [B]), in order. Every random choice of the whole global batch is drawn
    /// before the first part, so the parts of every rank see exactly what one process with one batch would; the parts
    /// are computed as they are enumerated, so the trainer can backward one before the next is built.
    /// </summary>
    /// <param name="random">
    /// The trainer's seeded generator (its state is checkpointed): augmentation choices and label-dropout masks
    /// come from it, in a fixed order, so a resumed run draws exactly what an uninterrupted one would.
    /// </param>
    /// <param name="maskKey">
    /// The step's key for the model's own random masks (dropout; <see cref="IAR.Abstractions.MaskKey.Step"/>): a function
    /// of the job's seed and the step, so every rank and micro-batch, and a resumed run, has the same.
    /// </param>
    IEnumerable<LossValues> Forward(Tensor indices, torch.Generator random, BatchShare share, ulong maskKey);
}

/// <summary>One micro-batch's loss: the total that is back-propagated ([]) and every unweighted term ([] each), in order.</summary>
public readonly record struct LossValues(Tensor Total, IReadOnlyList<Tensor> Terms);

/// <summary>One loss term as the trainer logs it: <c>loss/&lt;Name&gt;</c> (unweighted) and its weight in the total.</summary>
public sealed record LossTermInfo(string Name, double Weight);

/// <summary>
/// This process's part of a global batch: the contiguous shard <see cref="Rank"/> of <see cref="Ranks"/> (data
/// parallel), computed in <see cref="Parts"/> equal micro-batches (gradient accumulation). The global batch and its
/// order do not depend on either, so a run's result does not either, up to floating-point order.
/// </summary>
public readonly record struct BatchShare(int Rank, int Ranks, int Parts)
{
    public static readonly BatchShare Whole = new(0, 1, 1);

    /// <summary>(start, size) in the global batch of each micro-batch of this rank, in order.</summary>
    /// <exception cref="ArgumentException"><paramref name="batch"/> is not a multiple of ranks × parts.</exception>
    public IEnumerable<(long Start, long Size)> Ranges(long batch)
    {
        if (batch % ((long)Ranks * Parts) != 0)
            throw new ArgumentException($"A batch of {batch} does not split into {Ranks} ranks × {Parts} micro-batches.", nameof(batch));
        long size = batch / Ranks / Parts;
        long first = Rank * (batch / Ranks);
        for (int part = 0; part < Parts; part++) yield return (first + part * size, size);
    }
}
