using IAR.Host.Configuration;
using System.ComponentModel;

namespace IAR.Host.Experiments;

public sealed record EvaluationSpec : ISpecSection
{
    [Description("evaluate every N generator steps (0 = only at the end)")]
    public int Every { get; init; }

    [Description("images generated per evaluation")]
    public int NumSamples { get; init; } = 1000;

    [Description("images per sampling batch")]
    public int BatchSize { get; init; } = 100;

    [Description("fid, inception-score, precision-recall, class-accuracy, token-metrics")]
    public IReadOnlyList<ImageMetric> Metrics { get; init; } =
        [ImageMetric.Fid, ImageMetric.InceptionScore, ImageMetric.PrecisionRecall, ImageMetric.ClassAccuracy, ImageMetric.TokenMetrics];

    [Description("k of the k-NN manifolds for precision/recall")]
    public int PrecisionRecallK { get; init; } = 3;

    [PathValue, Description("feature extractor weights (safetensors); null = train the small classifier once and cache it")]
    public string? FeatureExtractor { get; init; }

    [Description("training steps of the small feature-extractor classifier")]
    public int FeatureExtractorSteps { get; init; } = 1500;

    [Description("sample images per class in the report's grids")]
    public int GridPerClass { get; init; } = 8;

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (Every < 0) yield return ("every", "every must be ≥ 0 (0 = only at the end).");
        if (NumSamples < 1) yield return ("num_samples", "num_samples must be ≥ 1.");
        if (BatchSize < 1) yield return ("batch_size", "batch_size must be ≥ 1.");
        if (PrecisionRecallK < 1) yield return ("precision_recall_k", "precision_recall_k must be ≥ 1.");
        if (FeatureExtractorSteps < 0) yield return ("feature_extractor_steps", "feature_extractor_steps must be ≥ 0.");
        if (GridPerClass < 0) yield return ("grid_per_class", "grid_per_class must be ≥ 0.");
    }
}
