using IAR.Host.Plugins;
using static TorchSharp.torch;

namespace IAR.Host.Experiments;

/// <summary>Everything a stage of <c>iar run</c> works with. Stages share results through <see cref="Items"/>.</summary>
public sealed class RunContext(
    Experiment experiment, PluginCatalog catalog, RunDirectory run, RunLog log, MetricsLog metrics, Device device,
    CancellationToken cancellation)
{
    public Experiment Experiment { get; } = experiment;

    public PluginCatalog Catalog { get; } = catalog;

    public RunDirectory Run { get; } = run;

    public RunLog Log { get; } = log;

    public MetricsLog Metrics { get; } = metrics;

    public Device Device { get; } = device;

    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>Results handed from one stage to the next (tokenizer, permutation, token cache, arm results).</summary>
    public IDictionary<string, object> Items { get; } = new Dictionary<string, object>(StringComparer.Ordinal);

    public T Get<T>(string key) where T : class =>
        Items.TryGetValue(key, out var v) && v is T t ? t
            : throw new InvalidOperationException($"Stage result '{key}' ({typeof(T).Name}) is not available; an earlier stage did not run.");
}
