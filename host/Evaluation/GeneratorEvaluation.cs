namespace IAR.Host.Evaluation;

/// <summary>The result of evaluating a generator at one step: the metrics.jsonl record and the samples it was computed from.</summary>
/// <param name="Record">Ready for <c>MetricsLog.Append</c>: stage "eval", arm, seed, step and every computed metric.</param>
/// <param name="Samples">The generated images with their labels (null when no image metric was asked for). Owned.</param>
public sealed record GeneratorEvaluation(IReadOnlyDictionary<string, object?> Record, LabelledImages? Samples) : IDisposable
{
    public void Dispose() => Samples?.Dispose();
}
