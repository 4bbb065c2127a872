using IAR.Host.Configuration;
using System.ComponentModel;
using IAR.Abstractions;
using static TorchSharp.torch;

namespace IAR.Host.Experiments;

public sealed record SamplingSpec : ISpecSection
{
    [Description("classifier-free guidance scale (1 = off)")]
    public double CfgScale { get; init; } = 1.5;

    [Description("constant | linear; null = the generator's official schedule")]
    public GuidanceSchedule? CfgSchedule { get; init; }

    [Description("softmax temperature")]
    public double Temperature { get; init; } = 1.0;

    [Description("keep the k most likely indices (0 = all)")]
    public int TopK { get; init; }

    [Description("nucleus mass in (0, 1] (1 = off)")]
    public double TopP { get; init; } = 1.0;

    [Description("cluster-aware sampling: draw the cluster (logsumexp of its logits), then the token within it; temperature/top_k/top_p then act on the token inside its cluster")]
    public bool ClusterAware { get; init; }

    [Description("cluster-aware sampling: temperature of the cluster distribution")]
    public double ClusterTemperature { get; init; } = 1.0;

    [Description("cluster-aware sampling: keep the k most likely clusters (0 = all)")]
    public int ClusterTopK { get; init; }

    [Description("cluster-aware sampling: nucleus mass over clusters in (0, 1] (1 = off)")]
    public double ClusterTopP { get; init; } = 1.0;

    /// <summary>The options a generator samples with.</summary>
    /// <param name="clusterOfToken">int64 [V], the cluster of every token in the generator's numbering; needed when
    /// <see cref="ClusterAware"/> is on (a run uses the reference clustering: balanced k-means with the top-level iar settings).</param>
    /// <exception cref="ConfigurationException">Cluster-aware sampling without a map.</exception>
    public SamplingOptions ToOptions(Tensor? clusterOfToken = null) => new(CfgScale, Temperature, TopK, TopP, CfgSchedule,
        Clusters: !ClusterAware ? null
            : clusterOfToken is null
                ? throw new ConfigurationException("sampling.cluster_aware needs a token-to-cluster map, and none is available here: the top-level iar settings (cluster_size or clusters) must fit the tokenizer's vocabulary.")
                : new ClusterSampling(clusterOfToken, ClusterTemperature, ClusterTopK, ClusterTopP));

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (!(CfgScale >= 0)) yield return ("cfg_scale", $"cfg_scale = {CfgScale} is invalid; a value ≥ 0 is accepted (1 = no guidance).");
        if (!(Temperature > 0)) yield return ("temperature", $"temperature = {Temperature} is invalid; a value > 0 is accepted.");
        if (TopK < 0) yield return ("top_k", $"top_k = {TopK} is invalid; 0 (off) or a positive count is accepted.");
        if (!(TopP > 0 && TopP <= 1)) yield return ("top_p", $"top_p = {TopP} is invalid; a value in (0, 1] is accepted.");
        if (!(ClusterTemperature > 0)) yield return ("cluster_temperature", $"cluster_temperature = {ClusterTemperature} is invalid; a value > 0 is accepted.");
        if (ClusterTopK < 0) yield return ("cluster_top_k", $"cluster_top_k = {ClusterTopK} is invalid; 0 (off) or a positive count is accepted.");
        if (!(ClusterTopP > 0 && ClusterTopP <= 1)) yield return ("cluster_top_p", $"cluster_top_p = {ClusterTopP} is invalid; a value in (0, 1] is accepted.");
    }
}
