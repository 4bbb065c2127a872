using IAR.Host.Data;

namespace IAR.Tests.Data;

/// <summary>
/// A fact that needs the full Fashion-MNIST (apt-get install dataset-fashion-mnist). Skipped where it is not installed,
/// except in CI (<c>CI=true</c>, as .ci/run and the common CI services set it), where .ci/run installs it: there the
/// fact runs and fails on the missing files instead of passing unnoticed as skipped.
/// </summary>
public sealed class FullFashionMnistFactAttribute : FactAttribute
{
    public FullFashionMnistFactAttribute()
    {
        if (!File.Exists(Path.Combine(FashionMnist.InstalledFolder, FashionMnist.FileName("train", images: true))) && !InContinuousIntegration)
            Skip = $"the full Fashion-MNIST is not installed at {FashionMnist.InstalledFolder} (CI=true makes this a failure)";
    }

    static bool InContinuousIntegration =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase) ||
        Environment.GetEnvironmentVariable("CI") == "1";
}
