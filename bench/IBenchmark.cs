namespace IAR.Bench;

/// <summary>One benchmark: measures something and reports it through <see cref="BenchReport"/>.</summary>
public interface IBenchmark
{
    /// <summary>The name given on the command line, e.g. <c>kmeans</c>.</summary>
    string Name { get; }

    string Description { get; }

    void Run(BenchReport report);
}
