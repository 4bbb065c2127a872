namespace IAR.Abstractions;

/// <summary>How a generator samples.</summary>
/// <param name="CfgScale">Classifier-free guidance scale; 1 disables guidance. Must be ≥ 0.</param>
/// <param name="Temperature">Softmax temperature; must be > 0.</param>
/// <param name="TopK">Keep the k most likely indices (ties at the k-th value survive); 0 keeps all.</param>
/// <param name="TopP">Nucleus sampling mass in (0, 1]; 1 keeps all.</param>
/// <param name="Schedule">How the guidance scale varies over steps; null lets the generator use its official one.</param>
/// <param name="UseKvCache">Reuse keys/values of earlier steps; false recomputes the whole prefix (for benchmarks).</param>
/// <param name="Clusters">Cluster-aware sampling (cluster first, then the token within it; <see cref="ClusterSampling"/>); null
/// samples tokens directly. With it, <paramref name="Temperature"/>, <paramref name="TopK"/> and <paramref name="TopP"/> act
/// on the token inside its cluster.</param>
public sealed record SamplingOptions(
    double CfgScale = 1.0,
    double Temperature = 1.0,
    int TopK = 0,
    double TopP = 1.0,
    GuidanceSchedule? Schedule = null,
    bool UseKvCache = true,
    ClusterSampling? Clusters = null)
{
    /// <summary>Throws <see cref="ConfigurationException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        if (!(CfgScale >= 0) || double.IsInfinity(CfgScale))
            throw new ConfigurationException($"sampling.cfg_scale = {CfgScale} is invalid; a finite value ≥ 0 is accepted (1 = no guidance).");
        if (!(Temperature > 0) || double.IsInfinity(Temperature))
            throw new ConfigurationException($"sampling.temperature = {Temperature} is invalid; a finite value > 0 is accepted.");
        if (TopK < 0)
            throw new ConfigurationException($"sampling.top_k = {TopK} is invalid; 0 (off) or a positive count is accepted.");
        if (!(TopP > 0 && TopP <= 1))
            throw new ConfigurationException($"sampling.top_p = {TopP} is invalid; a value in (0, 1] is accepted (1 = off).");
    }
}

/// <summary>How the classifier-free guidance scale varies over the generation steps.</summary>
public enum GuidanceSchedule
{
    /// <summary>The same scale at every step (LlamaGen).</summary>
    Constant,

    /// <summary>Zero at the first step rising linearly to the full scale at the last (VAR's schedule over scales).</summary>
    Linear,
}
