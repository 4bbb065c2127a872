namespace IAR.Host.Evaluation;

/// <summary>How the small CNN feature extractor is trained (part of its cache key).</summary>
/// <param name="Steps">Optimizer steps (<c>evaluation.feature_extractor_steps</c>).</param>
/// <param name="BatchSize">Images per step.</param>
/// <param name="Lr">Peak Adam learning rate, decayed to zero on a cosine.</param>
/// <param name="Seed">Initialisation, batch order and flips.</param>
/// <param name="Width">First-stage channels; features have 4·Width dimensions.</param>
public sealed record FeatureExtractorTrainingOptions(int Steps, int BatchSize = 128, double Lr = 2e-3, int Seed = 0, int Width = 32)
{
    /// <summary>D of the extractor these options train.</summary>
    public int FeatureDimension => SmallCnnConfig.FeaturesPerWidth * Width;
}
