namespace IAR.Host.Cli;

/// <summary>
/// How many libtorch CPU threads a process of a run uses when several share one machine: the ranks of a node under
/// <c>mpirun</c>/<c>srun</c>, or the local workers of <c>--workers N</c>. Each gets its share of the cores, so N processes
/// do not each start a thread per core and contend; the experiment's <c>threads:</c> wins when set.
/// </summary>
public static class ThreadShare
{
    /// <summary>The thread count to set, or null to keep libtorch's default (one process alone, nothing configured).</summary>
    /// <param name="configured">The experiment's <c>threads:</c> (0 = not set).</param>
    /// <param name="cores">The cores this process may use (<see cref="Environment.ProcessorCount"/>).</param>
    /// <param name="processes">Processes of this run sharing those cores.</param>
    public static int? PerProcess(int configured, int cores, int processes) =>
        configured > 0 ? configured
        : processes > 1 ? Math.Max(1, cores / processes)
        : null;
}
