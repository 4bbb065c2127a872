using IAR.Host.Experiments;

namespace IAR.Host.Evaluation;

/// <summary>How many samples each image metric needs, as sentences usable both up front and at evaluation time.</summary>
public static class EvaluationRequirements
{
    /// <summary>The smallest sample count that every requested metric accepts.</summary>
    public static int MinimumSamples(IReadOnlyCollection<ImageMetric> metrics, int featureDimension, int precisionRecallK)
    {
        int minimum = 1;
        if (metrics.Contains(ImageMetric.Fid)) minimum = Math.Max(minimum, featureDimension + 1);
        if (metrics.Contains(ImageMetric.PrecisionRecall)) minimum = Math.Max(minimum, precisionRecallK + 1);
        return minimum;
    }

    /// <summary>One sentence per metric that <paramref name="count"/> samples cannot support.</summary>
    public static IEnumerable<string> SampleCountProblems(IReadOnlyCollection<ImageMetric> metrics, long count, int featureDimension, int precisionRecallK)
    {
        if (metrics.Contains(ImageMetric.Fid) && count < featureDimension + 1)
            yield return $"FID with {featureDimension}-dimensional features needs at least {featureDimension + 1} samples " +
                         $"(feature dimension + 1, for a full-rank covariance); {count} were given.";
        if (metrics.Contains(ImageMetric.PrecisionRecall) && count < precisionRecallK + 1)
            yield return $"precision/recall with k = {precisionRecallK} needs at least {precisionRecallK + 1} samples; {count} were given.";
        if (count < 1 && metrics.Any(m => m != ImageMetric.TokenMetrics))
            yield return "image metrics need at least one sample.";
    }
}
