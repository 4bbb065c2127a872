using IAR.Host.Runs;
using IAR.Host.Data;
using IAR.Host.Distributed;
using IAR.Host.Experiments;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>Everything about one training job that is not the objective: knobs, identity, where it writes and who listens.</summary>
public sealed record TrainerSettings
{
    /// <summary>Steps, batch size, optimizer, schedule, clipping, EMA, checkpoint and log intervals.</summary>
    public required TrainingSpec Training { get; init; }

    /// <summary>The job's seed: batch order, augmentation/dropout draws and the global torch generator derive from it.</summary>
    public required int Seed { get; init; }

    /// <summary>Folder of the job: checkpoints go to <c>checkpoints/</c> inside it.</summary>
    public required string Folder { get; init; }

    /// <summary>The final weights (EMA weights when EMA is on), written once training completes.</summary>
    public required string WeightsFile { get; init; }

    /// <summary>
    /// Text that identifies the job's configuration (the resolved sections that shape training); a checkpoint written
    /// with another text is refused.
    /// </summary>
    public required string Config { get; init; }

    /// <summary>Fields of every metrics line that say whose line it is: <c>stage</c>, and for generators <c>arm</c> and <c>seed</c>.</summary>
    public required IReadOnlyDictionary<string, object> Tags { get; init; }

    /// <summary>How the job is named in messages, e.g. <c>generator baseline seed 0</c>.</summary>
    public required string Label { get; init; }

    /// <summary>The permutation hash of the tokens trained on (<c>identity</c> when not rearranged).</summary>
    public string Permutation { get; init; } = TokenCache.IdentityPermutation;

    /// <summary>The content hash of the tokenizer the data was encoded with, or null (tokenizer training).</summary>
    public string? Tokenizer { get; init; }

    public Device Device { get; init; } = CPU;

    /// <summary>
    /// The data-parallel ranks training this job together (one process by default): each computes its shard of every
    /// global batch, gradients are averaged, and only rank 0 writes checkpoints, weights and metrics.
    /// </summary>
    public ProcessGroup Group { get; init; } = SingleProcess.Instance;

    public MetricsLog? Metrics { get; init; }

    /// <summary>run.log and the console; null trains silently.</summary>
    public RunLog? Log { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>
    /// Called with the step number every <see cref="EvaluateEvery"/> steps and at the last step, before that step's
    /// checkpoint, with the EMA weights in the module when EMA is on. The global torch RNG and the module's train
    /// mode are restored afterwards, so evaluation never changes the training trajectory.
    /// </summary>
    public Action<long>? Evaluate { get; init; }

    /// <summary>0 = evaluate only at the last step.</summary>
    public int EvaluateEvery { get; init; }
}
