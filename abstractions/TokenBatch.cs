using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>One training batch for a generator.</summary>
/// <param name="Tokens">int64 [B, L], the ground-truth indices of each image in layout order.</param>
/// <param name="Labels">int64 [B], class labels in [0, NumClasses).</param>
/// <param name="DropLabels">
/// bool [B] or null: where true, the generator replaces the label with its null class (classifier-free guidance
/// training). The trainer draws this mask from its seeded generator so that runs are reproducible.
/// </param>
public sealed record TokenBatch(Tensor Tokens, Tensor Labels, Tensor? DropLabels = null);
