using System.Globalization;
using IAR.Host.Data;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// Which codes are live: chosen at least once in a set of tokens (the training token cache). A dead code's target never
/// occurs, so a generator can only learn to avoid it; a cluster full of dead codes is a wasted cluster, a live cluster
/// diluted by dead codes gives their probability mass to its cluster logit.
/// </summary>
/// <param name="Counts">[V]: how often each code (original numbering) occurs.</param>
public sealed record LiveCodes(IReadOnlyList<long> Counts)
{
    /// <summary>Codes that occur at least once.</summary>
    public int LiveCount { get; } = Counts.Count(c => c > 0);

    public int VocabularySize => Counts.Count;

    public int DeadCount => VocabularySize - LiveCount;

    public bool IsLive(int code) => Counts[code] > 0;

    /// <summary>Counts every token of every image and variant of <paramref name="tokens"/> (in its own numbering).</summary>
    public static LiveCodes Of(ITokenSource tokens, int chunk = 4096)
    {
        var counts = new long[tokens.VocabularySize];
        for (int variant = 0; variant < tokens.Variants; variant++)
            for (int start = 0; start < tokens.Count; start += chunk)
            {
                using var scope = torch.NewDisposeScope();
                int size = Math.Min(chunk, tokens.Count - start);
                var batch = tokens.Gather(torch.arange(start, start + size, ScalarType.Int64), torch.full([size], (long)variant, ScalarType.Int64));
                var bins = torch.bincount(batch.Tokens.flatten(), minlength: tokens.VocabularySize).data<long>().ToArray();
                for (int i = 0; i < bins.Length; i++) counts[i] += bins[i];
            }
        return new LiveCodes(counts);
    }

    /// <summary>
    /// The codes used in a token cache file (<c>tokens/train.safetensors</c> of a run), for <c>iar rearrange --tokens</c>.
    /// The cache is trusted to come from the codebook being clustered; only its vocabulary size is checked.
    /// </summary>
    /// <exception cref="IAR.Abstractions.ConfigurationException">The file is missing or its V differs from <paramref name="vocabularySize"/>.</exception>
    public static LiveCodes OfCacheFile(string path, int vocabularySize)
    {
        if (!File.Exists(path)) throw new IAR.Abstractions.ConfigurationException($"--tokens {path} does not exist; give a token cache (a run's tokens/train.safetensors).");
        string encodedBy = SafeTensorsFile.Open(path).Metadata.GetValueOrDefault(TokenCache.Keys.Tokenizer, "");
        using var cache = TokenCache.Open(path, encodedBy, dataFingerprint: null);
        if (cache.VocabularySize != vocabularySize)
            throw new IAR.Abstractions.ConfigurationException(
                $"--tokens {path} holds tokens of a {cache.VocabularySize}-code vocabulary, but the codebook has {vocabularySize} codes; give the token cache of this tokenizer.");
        return Of(cache);
    }
}

/// <summary>
/// How the live codes spread over the clusters of a rearrangement: live codes per cluster (min / median / max), how many
/// clusters hold dead codes beside live ones (diluted) and how many hold only dead ones.
/// </summary>
public sealed record ClusterHealth(int LiveCodes, int DeadCodes, int MinLive, double MedianLive, int MaxLive, int DilutedClusters, int DeadClusters)
{
    /// <param name="layout">The clusters of the new numbering.</param>
    /// <param name="newToOld">[V]: the original code at each new index.</param>
    /// <param name="live">Live codes in the original numbering.</param>
    public static ClusterHealth Of(ClusterLayout layout, IReadOnlyList<int> newToOld, LiveCodes live)
    {
        var perCluster = new int[layout.Count];
        for (int j = 0; j < layout.Count; j++)
            for (int i = layout.Offsets[j]; i < layout.Offsets[j + 1]; i++)
                if (live.IsLive(newToOld[i])) perCluster[j]++;
        var sorted = perCluster.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        int diluted = Enumerable.Range(0, n).Count(j => perCluster[j] > 0 && perCluster[j] < layout.Sizes[j]);
        return new ClusterHealth(live.LiveCount, live.DeadCount, sorted[0], median, sorted[^1], diluted, perCluster.Count(c => c == 0));
    }

    /// <summary>One line for logs: <c>live codes 1000 of 1024; live per cluster min 8 / median 32 / max 32; 1 diluted, 0 dead clusters</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"live codes {LiveCodes} of {LiveCodes + DeadCodes}; live per cluster min {MinLive} / median {MedianLive:0.#} / max {MaxLive}; " +
        $"{DilutedClusters} diluted, {DeadClusters} dead clusters");

    /// <summary>Key/value pairs for the permutation file's metadata (prefixed <c>iar.stats.</c> there).</summary>
    public IEnumerable<KeyValuePair<string, string>> ToPairs()
    {
        var c = CultureInfo.InvariantCulture;
        yield return new("live_codes", LiveCodes.ToString(c));
        yield return new("dead_codes", DeadCodes.ToString(c));
        yield return new("live_per_cluster_min", MinLive.ToString(c));
        yield return new("live_per_cluster_median", MedianLive.ToString("R", c));
        yield return new("live_per_cluster_max", MaxLive.ToString(c));
        yield return new("diluted_clusters", DilutedClusters.ToString(c));
        yield return new("dead_clusters", DeadClusters.ToString(c));
    }
}
