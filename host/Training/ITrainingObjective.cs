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

    /// <summary>The loss terms, in the order <see cref="Forward"/> returns them; the total is Σ weight·term.</summary>
    IReadOnlyList<LossTermInfo> Terms { get; }

    /// <summary>Number of samples the batch indices are drawn from.</summary>
    int DatasetSize { get; }

    /// <summary>What throughput counts (<c>tokens</c>, <c>images</c>); metrics get <c>&lt;unit&gt;_per_s</c>.</summary>
    string ThroughputUnit { get; }

    /// <summary>Units of throughput per sample (L tokens per image for a generator, 1 for a tokenizer).</summary>
    long UnitsPerSample { get; }

    /// <summary>
    /// The unweighted value of every term on the samples <paramref name="indices"/> (int64 [B]), for each of
    /// <paramref name="parts"/> equal micro-batches in order (gradient accumulation; 1 = the whole batch). Every random
    /// choice of the whole batch is drawn before the first part, so the parts see exactly what one batch would; the
    /// parts are computed as they are enumerated, so the trainer can backward one before the next is built.
    /// </summary>
    /// <param name="random">
    /// The trainer's seeded generator (its state is checkpointed): augmentation choices and label-dropout masks
    /// come from it, in a fixed order, so a resumed run draws exactly what an uninterrupted one would.
    /// </param>
    IEnumerable<IReadOnlyList<Tensor>> Forward(Tensor indices, torch.Generator random, int parts);
}

/// <summary>One loss term as the trainer logs it: <c>loss/&lt;Name&gt;</c> (unweighted) and its weight in the total.</summary>
public sealed record LossTermInfo(string Name, double Weight);
