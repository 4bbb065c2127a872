using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>
/// Cluster-aware sampling: draw the cluster from the cluster distribution (the logit of cluster c is
/// logsumexp of its tokens' logits, IAR's cluster logit), filtered by its own temperature / top-k / top-p, then the token
/// within that cluster, filtered by the sampling options' token temperature / top-k / top-p. Works for any vocabulary
/// numbering: <see cref="ClusterOfToken"/> maps every token to its cluster, contiguous or not.
/// </summary>
/// <remarks>
/// The two draws are made as one multinomial draw over the joint p(c)·p(t | c) [N, V] — the same distribution as
/// drawing c and then t — so one cluster with the plain settings gives bit-identical samples to plain sampling for a
/// seed, and one token per cluster with the plain settings on the cluster stage does too.
/// </remarks>
public sealed class ClusterSampling
{
    readonly Dictionary<(DeviceType, int), Layout> layouts = [];

    /// <param name="clusterOfToken">int64 [V]: the cluster id (0 … n−1) of every token of the generator's vocabulary. Copied.</param>
    /// <param name="temperature">Temperature of the cluster distribution, &gt; 0.</param>
    /// <param name="topK">Keep the k most likely clusters (0 = all).</param>
    /// <param name="topP">Nucleus mass over clusters in (0, 1] (1 = all).</param>
    /// <exception cref="ConfigurationException">A setting is out of range or the map is not int64 [V] of ids ≥ 0.</exception>
    public ClusterSampling(Tensor clusterOfToken, double temperature = 1.0, int topK = 0, double topP = 1.0)
    {
        if (clusterOfToken.dim() != 1 || clusterOfToken.dtype != ScalarType.Int64 || clusterOfToken.shape[0] < 1)
            throw new ConfigurationException($"A token-to-cluster map must be int64 [V]; got {clusterOfToken.dtype} [{string.Join(", ", clusterOfToken.shape)}].");
        if (clusterOfToken.min().item<long>() < 0)
            throw new ConfigurationException("A token-to-cluster map holds cluster ids ≥ 0; it has a negative one.");
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ConfigurationException($"sampling.cluster_temperature = {temperature} is invalid; a finite value > 0 is accepted.");
        if (topK < 0)
            throw new ConfigurationException($"sampling.cluster_top_k = {topK} is invalid; 0 (off) or a positive count is accepted.");
        if (!(topP > 0 && topP <= 1))
            throw new ConfigurationException($"sampling.cluster_top_p = {topP} is invalid; a value in (0, 1] is accepted (1 = off).");
        ClusterOfToken = clusterOfToken.detach().cpu().clone();
        ClusterOfToken.DetachFromDisposeScope();
        Clusters = (int)ClusterOfToken.max().item<long>() + 1;
        Temperature = temperature;
        TopK = topK;
        TopP = topP;
    }

    /// <summary>int64 [V] on the CPU.</summary>
    public Tensor ClusterOfToken { get; }

    /// <summary>n, one more than the largest cluster id.</summary>
    public int Clusters { get; }

    public int VocabularySize => (int)ClusterOfToken.shape[0];

    public double Temperature { get; }

    public int TopK { get; }

    public double TopP { get; }

    /// <summary>"clusters of the map (32 clusters): temperature 1, top-k 0, top-p 1" for logs.</summary>
    public override string ToString() =>
        FormattableString.Invariant($"cluster-aware ({Clusters} clusters; cluster temperature {Temperature}, top-k {TopK}, top-p {TopP})");

    /// <summary>
    /// The joint distribution p(c)·p(t | c) over tokens: logits [N, V] → probabilities [N, V] (rows sum to 1).
    /// </summary>
    /// <param name="logits">[N, V] (guided) logits of one position per row.</param>
    /// <param name="tokens">The token stage's temperature / top-k / top-p (the plain sampling options).</param>
    /// <param name="filter">The plugin's logit filter: logits [R, K] and options → filtered, temperature-scaled logits (−∞ removed).</param>
    public Tensor Probabilities(Tensor logits, SamplingOptions tokens, Func<Tensor, SamplingOptions, Tensor> filter)
    {
        if (logits.dim() != 2 || logits.shape[1] != VocabularySize)
            throw new ArgumentException($"Cluster-aware sampling needs logits [N, {VocabularySize}] (the map's V); got [{string.Join(", ", logits.shape)}].", nameof(logits));
        using var scope = torch.NewDisposeScope();
        var layout = LayoutOn(logits.device);
        long n = logits.shape[0];
        // [N, n·m]: each token's logit in its cluster's row of m slots (m = the largest cluster), −∞ in empty slots.
        var grid = torch.full([n, (long)Clusters * layout.Width], double.NegativeInfinity, logits.dtype, logits.device)
            .index_copy(1, layout.SlotOfToken, logits)
            .view(n, Clusters, layout.Width);                                                    // [N, n, m]
        var clusterLogits = grid.logsumexp(-1);                                                  // [N, n]
        var clusterStage = tokens with { Temperature = Temperature, TopK = TopK, TopP = TopP };
        var clusterProbabilities = filter(clusterLogits, clusterStage).softmax(-1);             // [N, n]
        var within = filter(grid.view(n * Clusters, layout.Width), tokens).softmax(-1)           // [N·n, m]
            .view(n, Clusters, layout.Width);
        if (layout.HasEmptyClusters) within = within.nan_to_num(0);                             // an id no token has: a row of −∞
        var joint = (clusterProbabilities.unsqueeze(-1) * within).view(n, (long)Clusters * layout.Width);
        return joint.index_select(1, layout.SlotOfToken).MoveToOuterDisposeScope();             // [N, V]
    }

    /// <summary>Where each token sits in the [n, m] grid, cached per device.</summary>
    Layout LayoutOn(Device device)
    {
        var key = (device.type, device.index);
        lock (layouts)
        {
            if (layouts.TryGetValue(key, out var cached)) return cached;
            var map = ClusterOfToken.data<long>().ToArray();
            var sizes = new int[Clusters];
            var slot = new long[map.Length];
            foreach (var c in map) sizes[c]++;
            int width = sizes.Max();
            var filled = new int[Clusters];
            for (int t = 0; t < map.Length; t++) slot[t] = map[t] * width + filled[map[t]]++;   // tokens keep their order inside a cluster
            var tensor = torch.tensor(slot, ScalarType.Int64).to(device);
            tensor.DetachFromDisposeScope();
            var layout = new Layout(tensor, width, sizes.Any(s => s == 0));
            layouts[key] = layout;
            return layout;
        }
    }

    /// <param name="SlotOfToken">int64 [V]: cluster · m + rank inside the cluster.</param>
    sealed record Layout(Tensor SlotOfToken, int Width, bool HasEmptyClusters);
}
