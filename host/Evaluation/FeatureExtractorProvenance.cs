namespace IAR.Host.Evaluation;

/// <summary>What a cached feature extractor was trained on and how well it classifies; kept in its checkpoint.</summary>
/// <param name="TrainedOn">First 16 hex digits of the SHA-256 of its training images, labels, config and options.</param>
/// <param name="Steps">Optimizer steps it was trained for.</param>
/// <param name="Seed">Seed of its initialisation and batch order.</param>
/// <param name="TestAccuracy">Top-1 accuracy on the held-out split, null when not measured.</param>
/// <param name="TestCount">Number of held-out images the accuracy was measured on.</param>
public sealed record FeatureExtractorProvenance(string TrainedOn, int Steps, int Seed, double? TestAccuracy, long TestCount);
