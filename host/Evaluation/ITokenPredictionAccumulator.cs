using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Accumulates accuracy-type statistics of teacher-forced predictions over held-out batches (token accuracy,
/// cluster accuracy, wrong-top-1-in-right-cluster rate). IAR core's metrics accumulator (host/Metrics) is the
/// implementation; an adapter of a few lines connects it when it lands.
/// </summary>
public interface ITokenPredictionAccumulator
{
    /// <param name="logits">float [B, L, V].</param>
    /// <param name="targets">int64 [B, L].</param>
    void Add(Tensor logits, Tensor targets);

    /// <summary>metrics.jsonl names → values over everything added, e.g. token_accuracy, cluster_accuracy, wrong_top1_right_cluster.</summary>
    IReadOnlyDictionary<string, double> Results();
}
