using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// Accumulates accuracy-type statistics of teacher-forced predictions over held-out batches (token accuracy,
/// cluster accuracy, wrong-top-1-in-right-cluster rate); implemented by
/// <see cref="IAR.Host.Iar.TokenPredictionAccumulator"/>.
/// </summary>
public interface ITokenPredictionAccumulator
{
    /// <param name="logits">float [B, L, V].</param>
    /// <param name="targets">int64 [B, L].</param>
    void Add(Tensor logits, Tensor targets);

    /// <summary>metrics.jsonl names → values over everything added, e.g. token_accuracy, cluster_accuracy, wrong_top1_right_cluster.</summary>
    IReadOnlyDictionary<string, double> Results();
}
