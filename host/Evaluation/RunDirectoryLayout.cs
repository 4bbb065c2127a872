namespace IAR.Host.Evaluation;

/// <summary>Where evaluation outputs live inside a run directory (read back by the report).</summary>
public static class RunDirectoryLayout
{
    /// <summary>Description, dimension and test accuracy of the feature extractor used for the run.</summary>
    public const string FeatureExtractorSummary = "evaluation/feature_extractor.json";

    /// <summary>The FID of real held-out images against the reference at each evaluation sample count (<see cref="NoiseFloors"/>).</summary>
    public const string NoiseFloor = "evaluation/noise_floor.json";

    public const string SamplesFolder = "samples";

    /// <summary>samples/&lt;arm&gt;/seed-&lt;seed&gt;/ (relative to the run directory).</summary>
    public static string SampleFolder(string arm, int seed) => Path.Combine(SamplesFolder, arm, $"seed-{seed}");

    /// <summary>The class-by-row PNG grid of an arm and seed.</summary>
    public static string GridFile(string arm, int seed) => Path.Combine(SampleFolder(arm, seed), "grid.png");

    /// <summary>The ADM-evaluator archive of an arm and seed's final samples.</summary>
    public static string NpzFile(string arm, int seed) => Path.Combine(SampleFolder(arm, seed), "samples.npz");
}
