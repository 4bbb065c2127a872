using System.ComponentModel;
using IAR.Abstractions;

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

    public SamplingOptions ToOptions() => new(CfgScale, Temperature, TopK, TopP, CfgSchedule);

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (!(CfgScale >= 0)) yield return ("cfg_scale", $"cfg_scale = {CfgScale} is invalid; a value ≥ 0 is accepted (1 = no guidance).");
        if (!(Temperature > 0)) yield return ("temperature", $"temperature = {Temperature} is invalid; a value > 0 is accepted.");
        if (TopK < 0) yield return ("top_k", $"top_k = {TopK} is invalid; 0 (off) or a positive count is accepted.");
        if (!(TopP > 0 && TopP <= 1)) yield return ("top_p", $"top_p = {TopP} is invalid; a value in (0, 1] is accepted.");
    }
}
