namespace IAR.Tests.Support;

/// <summary>Locations in the repository and the test output.</summary>
public static class RepoPaths
{
    static readonly Lazy<string> root = new(FindRoot);

    /// <summary>The repository (found on first use, so that IAR_PARITY_DIR works from a copy of the test output alone).</summary>
    public static string Root => root.Value;

    public static string Experiments => Path.Combine(Root, "experiments");

    /// <summary>The parity fixtures: env IAR_PARITY_DIR, else tests/fixtures/parity in the repo.</summary>
    public static string ParityFixtures =>
        Environment.GetEnvironmentVariable("IAR_PARITY_DIR") is { Length: > 0 } env ? env : Path.Combine(Root, "tests", "fixtures", "parity");

    /// <summary>plugins/ beside the test assembly (the build copies every plugin there).</summary>
    public static string BuiltPlugins => Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>Release or Debug, whichever this test assembly was built as.</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "IAR.Plugins.sln"))) return dir.FullName;
        throw new InvalidOperationException("The tests must run from inside the repository (IAR.Plugins.sln not found above the test output).");
    }
}
