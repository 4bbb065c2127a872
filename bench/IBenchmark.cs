namespace IAR.Bench;

/// <summary>One benchmark: measures something and reports it through <see cref="BenchReport"/>.</summary>
public interface IBenchmark
{
    /// <summary>The name given on the command line, e.g. <c>kmeans</c>.</summary>
    string Name { get; }

    string Description { get; }

    /// <summary>
    /// Whether the same measures are worth taking with MKL's generic path too: with the vendor path on, the bench
    /// then runs again in a child process with it off (<see cref="MklPathComparison"/>), in the same run.
    /// </summary>
    bool ComparesMklPaths => false;

    void Run(BenchReport report);
}
