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
