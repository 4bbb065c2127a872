using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>The teacher-forced forward of a generator.</summary>
/// <param name="Logits">float [B, L, V], the prediction for every position.</param>
/// <param name="Targets">int64 [B, L], the index each position should predict.</param>
public sealed record GeneratorOutput(Tensor Logits, Tensor Targets);
