using System.Runtime.InteropServices;

namespace IAR.Host.Cli;

/// <summary>
/// SIGTERM and SIGINT as a cancellation: the handler cancels the default termination, so the trainer can finish its
/// step and write a checkpoint; the command then exits 143 or 130.
/// </summary>
public sealed class StopSignals : IDisposable
{
    readonly CancellationTokenSource cancel = new();
    readonly PosixSignalRegistration term, interrupt;

    public StopSignals()
    {
        term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    }

    public CancellationToken Token => cancel.Token;

    /// <summary>The first signal received, or null.</summary>
    public PosixSignal? Received { get; private set; }

    /// <summary>Raised once, on the first signal (local workers forward it to their processes).</summary>
    public event Action<PosixSignal>? Stopping;

    void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Received is not null) return;
        Received = context.Signal;
        Stopping?.Invoke(context.Signal);
        cancel.Cancel();
    }

    public void Dispose()
    {
        term.Dispose();
        interrupt.Dispose();
        cancel.Dispose();
    }
}
