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

    /// <summary>Values read on this thread since it started, from any device.</summary>
    public static long Reads => reads;

    /// <summary>The part of <see cref="Reads"/> from tensors not on the CPU: each one a host–device synchronisation.</summary>
    public static long Syncs => syncs;

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
        if (tensor.device_type != DeviceType.CPU) syncs++;
    }
}
