using IAR.Host.Distributed;
using IAR.Host.Plugins;
using IAR.Host.Runs;
using static TorchSharp.torch;

namespace IAR.Host.Recipes;

/// <summary>
/// What every step of a run works with, besides its typed inputs: the plugins, the run folder, the logs, the device.
/// Nothing is handed between steps through it; the steps' products are files of <see cref="Run"/>.
/// </summary>
/// <param name="Metrics">Prepare's metrics.jsonl (the run folder's); each job writes its own in its folder.</param>
/// <param name="Group">
/// The data-parallel ranks this process is one of (<c>mpirun -np N iar run …</c>); one process by default. Every rank
/// runs the same jobs in the same order; rank 0 alone writes statuses, metrics, checkpoints and the report.
/// </param>
public sealed record RunEnvironment(
    PluginCatalog Catalog, RunDirectory Run, RunLog Log, MetricsLog Metrics, Device Device, CancellationToken Cancellation,
    ProcessGroup Group)
{
    /// <summary>Whether this process writes the run folder's shared files (it is rank 0, or alone).</summary>
    public bool Writes => Group.IsMain;
}
