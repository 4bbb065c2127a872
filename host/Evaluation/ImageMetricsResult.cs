namespace IAR.Host.Evaluation;

/// <summary>Image metrics of one set of generated samples; null where the metric was not asked for.</summary>
public sealed record ImageMetricsResult(
    double? Fid, double? InceptionScore, double? Precision, double? Recall, double? ClassAccuracy)
{
    /// <summary>The metrics.jsonl names and values of the metrics present.</summary>
    public IEnumerable<KeyValuePair<string, double>> Entries()
    {
        if (Fid is double fid) yield return new(MetricNames.Fid, fid);
        if (InceptionScore is double score) yield return new(MetricNames.InceptionScore, score);
        if (Precision is double precision) yield return new(MetricNames.Precision, precision);
        if (Recall is double recall) yield return new(MetricNames.Recall, recall);
        if (ClassAccuracy is double accuracy) yield return new(MetricNames.ClassAccuracy, accuracy);
    }
}
