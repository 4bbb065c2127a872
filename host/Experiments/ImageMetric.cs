namespace IAR.Host.Experiments;

/// <summary>A measure computed at each evaluation.</summary>
public enum ImageMetric
{
    /// <summary>Fréchet distance of feature statistics, generated vs reference images.</summary>
    Fid,

    /// <summary>Inception Score from the feature extractor's class probabilities.</summary>
    InceptionScore,

    /// <summary>k-NN manifold precision and recall (Kynkäänniemi et al. 2019).</summary>
    PrecisionRecall,

    /// <summary>How often the feature extractor's classifier agrees with the conditioning class.</summary>
    ClassAccuracy,

    /// <summary>Held-out NLL, token accuracy, cluster accuracy, wrong-top-1-in-right-cluster rate.</summary>
    TokenMetrics,
}
