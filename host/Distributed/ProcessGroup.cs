using System.Globalization;
using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Distributed;

/// <summary>
/// The ranks of one data-parallel job and the few collectives training needs. Tensor collectives run on the training
/// device (MPI for CPU tensors, NCCL for CUDA tensors); the small host-side agreements (stop, a path chosen by rank 0,
/// the random states a checkpoint gathers) always go through MPI. Every wait is bounded: a rank that is gone or a
/// timeout ends it with a <see cref="RankLostException"/> instead of a hang.
/// </summary>
public abstract class ProcessGroup : IDisposable
{
    public abstract int Rank { get; }

    public abstract int Size { get; }

    /// <summary>Rank 0: the one that writes checkpoints, metrics, status and the report.</summary>
    public bool IsMain => Rank == 0;

    /// <summary>Whether steps go through the collectives: several ranks, or one forced through MPI (<see cref="ForceVariable"/>).</summary>
    public bool IsDistributed => this is not SingleProcess;

    /// <summary>Sums a contiguous float32/float64 tensor of the training device over the ranks, in place.</summary>
    /// <param name="what">What is being summed, for the message when a rank is lost (e.g. <c>the gradients of step 12</c>).</param>
    public abstract void SumInPlace(Tensor tensor, string what);

    /// <summary>Overwrites a contiguous tensor of the training device with rank 0's.</summary>
    public abstract void Broadcast(Tensor tensor, string what);

    /// <summary>Element by element, whether any rank passed true (host memory: it never waits for a device).</summary>
    public abstract bool[] AnyEach(bool[] local, string what);

    /// <summary>Rank 0's bytes on every rank (the argument of the other ranks is ignored).</summary>
    public abstract byte[] Broadcast(byte[] mine, string what);

    /// <summary>On rank 0, every rank's bytes in rank order (all of one length); null on the other ranks.</summary>
    public abstract byte[][]? Gather(byte[] mine, string what);

    public abstract void Barrier(string what);

    /// <summary>The backend and the rank, for the run log.</summary>
    public abstract string Describe();

    /// <summary>Rank 0's decision, taken once and followed by every rank (file-system state may differ between reads).</summary>
    public bool Agree(Func<bool> decideOnMain, string what) =>
        Broadcast(IsMain ? [decideOnMain() ? (byte)1 : (byte)0] : [0], what)[0] == 1;

    /// <summary>Rank 0's text (e.g. the checkpoint it chose) on every rank.</summary>
    public string? Agree(Func<string?> decideOnMain, string what)
    {
        var bytes = Broadcast(IsMain ? System.Text.Encoding.UTF8.GetBytes("\u0001" + (decideOnMain() ?? "")) : [], what);
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        return text.Length > 1 ? text[1..] : null;
    }

    /// <summary>
    /// Checks a backend on a machine with one device (bench/gpu does): <c>IAR_PROCESS_GROUP=mpi</c> joins MPI (and NCCL on
    /// CUDA) even as a single rank; <c>nccl</c> runs NCCL alone on one CUDA device, without MPI. A single rank's
    /// collectives change nothing, so the result must equal one process's.
    /// </summary>
    public const string ForceVariable = "IAR_PROCESS_GROUP";

    /// <summary>
    /// The group of this launch: one process, or MPI ranks (with NCCL for the tensors when <paramref name="device"/> is CUDA).
    /// </summary>
    /// <exception cref="ConfigurationException">A multi-rank launch that MPI cannot join (see the message).</exception>
    public static ProcessGroup Start(DistributedLaunch launch, Device device, CancellationToken cancellation)
    {
        var forced = Environment.GetEnvironmentVariable(ForceVariable);
        if (launch.Size == 1 && forced == "nccl")
            return device.type == DeviceType.CUDA
                ? new NcclProcessGroup(SingleProcess.Instance, device)
                : throw new ConfigurationException($"{ForceVariable}=nccl needs a CUDA device; this run's device is {device}.");
        if (launch.Size == 1 && forced != "mpi") return SingleProcess.Instance;
        if (launch.Launcher == "env")
            throw new ConfigurationException(
                $"RANK/WORLD_SIZE say {launch}, but data-parallel ranks are joined by MPI, which needs its launcher: start them with " +
                "'mpirun -np N iar run …' or 'srun --mpi=pmix -n N iar run …'.");
        var mpi = MpiProcessGroup.Join(launch, cancellation);
        if (mpi.Size != launch.Size)
            throw new ConfigurationException($"The launcher says {launch.Size} ranks but MPI joined {mpi.Size}; start the ranks with the launcher of this MPI (Open MPI's mpirun, or srun --mpi=pmix).");
        return device.type == DeviceType.CUDA ? new NcclProcessGroup(mpi, device) : mpi;
    }

    /// <summary>This rank ends without an error: a clean shutdown (MPI_Finalize) may wait for the other ranks.</summary>
    public virtual void Finish() { }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>One process: every collective is the identity.</summary>
public sealed class SingleProcess : ProcessGroup
{
    public static readonly SingleProcess Instance = new();

    public override int Rank => 0;
    public override int Size => 1;
    public override void SumInPlace(Tensor tensor, string what) { }
    public override void Broadcast(Tensor tensor, string what) { }
    public override bool[] AnyEach(bool[] local, string what) => local;
    public override byte[] Broadcast(byte[] mine, string what) => mine;
    public override byte[][]? Gather(byte[] mine, string what) => [mine];
    public override void Barrier(string what) { }
    public override string Describe() => "one process";
}

/// <summary>Another rank exited, or did not answer within the timeout, while this one waited for it.</summary>
public sealed class RankLostException(string message) : Exception(message);
