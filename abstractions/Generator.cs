using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>
/// A class-conditional autoregressive generator over a tokenizer's indices. Next-token and next-scale models share
/// this contract: training sees logits [B, L, V] with targets [B, L], sampling returns indices [B, L].
/// </summary>
public interface IGenerator
{
    GeneratorInfo Info { get; }

    /// <summary>The network; its state dict is the checkpoint (official key names where the plugin has them).</summary>
    nn.Module Module { get; }

    /// <summary>
    /// The vocabulary-indexed tensors of <see cref="Module"/> (token-embedding rows, output-head rows and bias):
    /// permuting them along their axis renumbers the vocabulary of a trained model without changing its outputs.
    /// </summary>
    IReadOnlyList<VocabularyParameter> VocabularyParameters { get; }

    /// <summary>Teacher-forced forward in the module's current mode (train/eval).</summary>
    GeneratorOutput Forward(TokenBatch batch);

    /// <summary>Samples one sequence per label: int64 [B] → int64 [B, L].</summary>
    /// <param name="labels">int64 [B] class labels in [0, NumClasses).</param>
    /// <param name="options">Guidance, temperature, top-k/top-p, KV cache.</param>
    /// <param name="generator">The seeded random source; null uses the global one.</param>
    Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator);
}

/// <summary>What a generator is and what it predicts.</summary>
/// <param name="Plugin">The plugin that built it.</param>
/// <param name="Preset">The preset it was built from.</param>
/// <param name="Kind">Next-token or next-scale; the IAR decorators do not depend on it.</param>
/// <param name="VocabularySize">V, the size of the output distribution (the tokenizer's codebook size).</param>
/// <param name="NumClasses">Number of class labels; labels are in [0, NumClasses).</param>
/// <param name="Layout">The token layout of one image (the tokenizer's).</param>
/// <param name="SupportsGuidance">Whether it has a null class, so classifier-free guidance can be used.</param>
/// <param name="SupportsClusterSampling">Whether <see cref="IGenerator.Generate"/> honours <see cref="SamplingOptions.Clusters"/>
/// (draws from <see cref="ClusterSampling.Probabilities"/>); the host refuses cluster-aware sampling of a generator that would ignore it.</param>
public sealed record GeneratorInfo(
    string Plugin, string Preset, GeneratorKind Kind, int VocabularySize, int NumClasses, TokenLayout Layout,
    bool SupportsGuidance, bool SupportsClusterSampling = false);

/// <summary>What one autoregressive step of a generator predicts.</summary>
public enum GeneratorKind
{
    /// <summary>One token per step over a single grid in raster order (LlamaGen).</summary>
    NextToken,

    /// <summary>A whole grid per step, coarse to fine (VAR).</summary>
    NextScale,
}

/// <summary>One training batch for a generator.</summary>
/// <param name="Tokens">int64 [B, L], the ground-truth indices of each image in layout order.</param>
/// <param name="Labels">int64 [B], class labels in [0, NumClasses).</param>
/// <param name="DropLabels">
/// bool [B] or null: where true, the generator replaces the label with its null class (classifier-free guidance
/// training). The trainer draws this mask from its seeded generator so that runs are reproducible.
/// </param>
/// <param name="Masks">
/// In training, what the generator's random masks (dropout) must be keyed by so that any split of the global batch
/// over ranks and micro-batches trains what one process trains; null outside the trainer, where masks may come from
/// the global torch generator.
/// </param>
public sealed record TokenBatch(Tensor Tokens, Tensor Labels, Tensor? DropLabels = null, MaskKey? Masks = null);

/// <summary>
/// What a training step's random masks (dropout) are a function of, so that a data-parallel run (N ranks, each
/// training a shard of the global batch in K micro-batches) draws exactly the masks one process draws for the whole
/// batch: a mask element is a function of (<see cref="Step"/>, the row's global sample index, the element's index
/// within that sample), never of the process, the rank or the micro-batch. A generator without such masks ignores it.
/// </summary>
/// <param name="Step">The step's key: the same on every rank and micro-batch, and the same after a resume (the trainer
/// derives it from the job's seed and the step number).</param>
/// <param name="FirstSample">The index in the global batch of the batch's row 0: row b is global sample FirstSample + b.</param>
public readonly record struct MaskKey(ulong Step, long FirstSample);

/// <summary>The teacher-forced forward of a generator.</summary>
/// <param name="Logits">float [B, L, V], the prediction for every position.</param>
/// <param name="Targets">int64 [B, L], the index each position should predict.</param>
public sealed record GeneratorOutput(Tensor Logits, Tensor Targets);

/// <summary>What the host asks a generator factory to build.</summary>
/// <param name="Preset">One of the factory's preset names.</param>
/// <param name="Options">Overrides of the preset's options by snake_case name (lists written <c>1,2,2</c>).</param>
/// <param name="Tokenizer">
/// The tokenizer it generates for (possibly an IAR decorator): vocabulary and layout come from it, never constants.
/// </param>
/// <param name="NumClasses">Number of class labels in the data.</param>
public sealed record GeneratorRequest(
    string Preset, IReadOnlyDictionary<string, string> Options, ITokenizer Tokenizer, int NumClasses);

/// <summary>Builds generators (with fresh weights; the host loads checkpoints into <see cref="IGenerator.Module"/>).</summary>
public interface IGeneratorFactory : IModelFactory
{
    GeneratorKind Kind { get; }

    /// <exception cref="ConfigurationException">Unknown preset or option, or a tokenizer it cannot work with.</exception>
    IGenerator Create(GeneratorRequest request);
}
