using IAR.Abstractions;

namespace IAR.Host.Iar;

/// <summary>
/// Turns the user's cluster size m or cluster count n into a valid (n, m) pair for a vocabulary of V codes, with
/// errors that name the sizes that would work.
/// </summary>
public static class ClusterSizes
{
    /// <summary>(n, m) from exactly one of <paramref name="clusterSize"/> (m) and <paramref name="clusters"/> (n).</summary>
    /// <param name="sizeKey">How the user wrote m, for messages (<c>iar.cluster_size</c>, <c>--cluster-size</c>).</param>
    /// <param name="countKey">How the user wrote n, for messages.</param>
    /// <exception cref="ConfigurationException">Neither or both given, below 1, above V, or not dividing V.</exception>
    public static (int Clusters, int ClusterSize) Resolve(int vocabularySize, int? clusterSize, int? clusters,
        string sizeKey = "iar.cluster_size", string countKey = "iar.clusters")
    {
        if (clusterSize is not null && clusters is not null)
            throw new ConfigurationException($"Give either {sizeKey} (m) or {countKey} (n), not both.");
        if (clusterSize is null && clusters is null)
            throw new ConfigurationException($"Give {sizeKey} (m, codes per cluster; official 128) or {countKey} (n).");
        if (clusterSize is int m)
        {
            if (m < 1 || m > vocabularySize)
                throw new ConfigurationException($"{sizeKey} = {m} is invalid for a codebook of {vocabularySize} codes; a divisor of {vocabularySize} in [1, {vocabularySize}] is accepted.");
            if (vocabularySize % m != 0)
                throw new ConfigurationException($"{sizeKey} = {m} does not divide the {vocabularySize} codes into equal clusters; sizes that work nearby: {Nearby(vocabularySize, m)}.");
            return (vocabularySize / m, m);
        }
        int n = clusters!.Value;
        if (n < 1 || n > vocabularySize)
            throw new ConfigurationException($"{countKey} = {n} is invalid for a codebook of {vocabularySize} codes; a divisor of {vocabularySize} in [1, {vocabularySize}] is accepted.");
        if (vocabularySize % n != 0)
            throw new ConfigurationException($"{countKey} = {n} does not divide the {vocabularySize} codes into equal clusters; counts that work nearby: {Nearby(vocabularySize, n)}.");
        return (n, vocabularySize / n);
    }

    /// <exception cref="ConfigurationException"><paramref name="clusterSize"/> does not divide <paramref name="vocabularySize"/>.</exception>
    public static void RequireDivides(int vocabularySize, int clusterSize) =>
        Resolve(vocabularySize, clusterSize, null, sizeKey: "cluster size");

    /// <summary>The divisors of <paramref name="value"/> closest to <paramref name="wanted"/> (up to two on each side).</summary>
    public static string Nearby(int value, int wanted)
    {
        var divisors = Enumerable.Range(1, value).Where(d => value % d == 0).ToList();
        var below = divisors.Where(d => d < wanted).TakeLast(2);
        var above = divisors.Where(d => d > wanted).Take(2);
        return string.Join(", ", below.Concat(above));
    }
}
