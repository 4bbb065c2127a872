using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>
/// The one way code on a training step's path reads tensor values into .NET: a value guard, the gradient norm of
/// <c>ClipGlobalNorm</c>, the trainer's per-interval read of its summed losses. Reading a tensor that lives on an
/// accelerator makes the host wait until the device has computed it (a synchronisation, which stalls the queue of
/// kernels); reading a CPU tensor costs only the read. Each read is counted on the calling thread, where TorchSharp
/// runs the step, so a test can count the reads of whole trainer steps; a test also scans the step path's sources
/// for reads that bypass this class (<c>HostSyncTests</c>).
/// </summary>
public static class HostRead
{
    [ThreadStatic] static long reads;
    [ThreadStatic] static long syncs;
    [ThreadStatic] static bool rehearsing;

    /// <summary>Values read on this thread since it started, from any device.</summary>
    public static long Reads => reads;

    /// <summary>
    /// The part of <see cref="Reads"/> from tensors not on the CPU (or any tensor during <see cref="RehearseAccelerator"/>):
    /// each one a host–device synchronisation.
    /// </summary>
    public static long Syncs => syncs;

    /// <summary>
    /// Whether code may read <paramref name="tensor"/> without a synchronisation: it lives on the CPU and no
    /// <see cref="RehearseAccelerator"/> is active on this thread. Code that reads values only where they are free
    /// (a guard for direct callers, the CPU dropout's key) asks this instead of testing the device itself, so a
    /// CPU-only test can run the accelerator's branch of the same code.
    /// </summary>
    public static bool IsFree(Tensor tensor) => tensor.device_type == DeviceType.CPU && !rehearsing;

    /// <summary>
    /// Until disposed, this thread runs as if every tensor lived on an accelerator: <see cref="IsFree"/> answers false
    /// and every read counts in <see cref="Syncs"/>. A test on a CPU-only machine then counts the synchronisations a
    /// step would make on a GPU (the kernels still run on the CPU). Scopes nest.
    /// </summary>
    public static IDisposable RehearseAccelerator()
    {
        bool outer = rehearsing;
        rehearsing = true;
        return new Rehearsal(outer);
    }

    sealed class Rehearsal(bool outer) : IDisposable
    {
        public void Dispose() => rehearsing = outer;
    }

    /// <summary>The value of an int64 scalar tensor.</summary>
    public static long Long(Tensor scalar)
    {
        Count(scalar);
        return scalar.item<long>();
    }

    /// <summary>The value of a bool scalar tensor.</summary>
    public static bool Bool(Tensor scalar)
    {
        Count(scalar);
        return scalar.item<bool>();
    }

    /// <summary>The value of a float64 scalar tensor.</summary>
    public static double Double(Tensor scalar)
    {
        Count(scalar);
        return scalar.item<double>();
    }

    /// <summary>The elements of a float64 tensor of any shape, in row-major order, copied to the host in one read.</summary>
    public static double[] Doubles(Tensor values)
    {
        Count(values);
        using var scope = NewDisposeScope();   // the copy, when values are not already contiguous on the CPU
        return values.cpu().contiguous().data<double>().ToArray();
    }

    static void Count(Tensor tensor)
    {
        reads++;
        if (tensor.device_type != DeviceType.CPU || rehearsing) syncs++;
    }
}
