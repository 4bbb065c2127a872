using System.Runtime.InteropServices;
using IAR.Abstractions;
using IAR.Host.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Distributed;

/// <summary>
/// Data parallel on CUDA: the tensor collectives through NCCL (what PyTorch DDP uses), enqueued on the legacy default
/// stream that libtorch computes on, so they are ordered with the step's kernels and the host does not wait for them;
/// the host-side agreements, and the exchange of NCCL's unique id, through the group it is built on (the MPI ranks; for
/// a single-rank check, one process). One GPU per rank: rank r uses the device it was given (cuda:&lt;local rank&gt; by default).
/// </summary>
/// <remarks>
/// NCCL calls return before the GPU runs them, so a lost peer shows up in the next MPI agreement (every step), not
/// inside NCCL. This backend has only been compiled here: no GPU was available to the sessions that wrote it.
/// </remarks>
public sealed unsafe class NcclProcessGroup : ProcessGroup
{
    public const string LibraryVariable = "IAR_NCCL_LIBRARY";

    readonly ProcessGroup mpi;   // the bootstrap: MPI ranks, or one process
    readonly Api api;
    readonly IntPtr communicator;
    readonly string library;

    public NcclProcessGroup(ProcessGroup mpi, Device device)
    {
        this.mpi = mpi;
        (api, library) = Api.Load(mpi.Describe());
        // Rank 0 makes the id, MPI carries it to the others; every rank then joins on its own device.
        var id = new UniqueId();
        if (mpi.IsMain) Check(api.GetUniqueId(&id), "ncclGetUniqueId");
        var bytes = mpi.Broadcast(mpi.IsMain ? new ReadOnlySpan<byte>(&id, sizeof(UniqueId)).ToArray() : [], "NCCL's unique id");
        bytes.CopyTo(new Span<byte>(&id, sizeof(UniqueId)));
        SetDevice(device.index < 0 ? 0 : device.index);
        IntPtr comm;
        Check(api.CommInitRank(&comm, mpi.Size, id, mpi.Rank), "ncclCommInitRank");
        communicator = comm;
    }

    public override int Rank => mpi.Rank;
    public override int Size => mpi.Size;

    public override string Describe() => $"{mpi.Describe()}; tensors through NCCL ({library})";

    public override void SumInPlace(Tensor tensor, string what)
    {
        var (address, count, type) = CollectiveBuffer.Of(tensor, DeviceType.CUDA, what);
        Check(api.AllReduce(address, address, count, type, 0 /* ncclSum */, communicator, 0), "ncclAllReduce");
    }

    public override void Broadcast(Tensor tensor, string what)
    {
        var (address, count, type) = CollectiveBuffer.Of(tensor, DeviceType.CUDA, what);
        Check(api.Broadcast(address, address, count, type, 0, communicator, 0), "ncclBroadcast");
    }

    public override bool[] AnyEach(bool[] local, string what) => mpi.AnyEach(local, what);
    public override byte[] Broadcast(byte[] mine, string what) => mpi.Broadcast(mine, what);
    public override byte[][]? Gather(byte[] mine, string what) => mpi.Gather(mine, what);
    public override void Barrier(string what) => mpi.Barrier(what);

    public override void Finish() => mpi.Finish();

    public override void Dispose()
    {
        api.CommDestroy(communicator);
        mpi.Dispose();
        base.Dispose();
    }

    /// <summary>cudaSetDevice through the CUDA runtime libtorch already loaded: NCCL joins on the current device.</summary>
    static void SetDevice(int index)
    {
        const int Now = 2, NoLoad = 4;
        foreach (var name in new[] { "libcudart.so.12", "libcudart.so.11.0", "libcudart.so" })
        {
            var handle = dlopen(name, Now | NoLoad);
            if (handle == 0) continue;
            var set = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(handle, "cudaSetDevice");
            int code = set(index);
            if (code != 0) throw new RunFailedException($"cudaSetDevice({index}) failed with CUDA error {code}.");
            return;
        }
        throw new RunFailedException("The CUDA runtime (libcudart) is not loaded, so the rank's device cannot be selected for NCCL; is this a CUDA build of libtorch?");
    }

    void Check(int code, string call)
    {
        if (code != 0) throw new RunFailedException($"{call} failed: NCCL error {code} ({Marshal.PtrToStringUTF8(api.GetErrorString(code))}).");
    }

    [StructLayout(LayoutKind.Sequential, Size = 128)]
    struct UniqueId
    {
        public byte First;
    }

    sealed class Api
    {
        public required delegate* unmanaged<UniqueId*, int> GetUniqueId;
        public required delegate* unmanaged<IntPtr*, int, UniqueId, int, int> CommInitRank;
        public required delegate* unmanaged<IntPtr, int> CommDestroy;
        public required delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> AllReduce;
        public required delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> Broadcast;
        public required delegate* unmanaged<int, IntPtr> GetErrorString;

        /// <summary>libnccl.so.2 from IAR_NCCL_LIBRARY, beside the external libtorch (pip's nvidia/nccl/lib), or the loader's path.</summary>
        public static (Api, string) Load(string who)
        {
            var candidates = new List<string>();
            if (Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } set) candidates.Add(set);
            if (ExternalLibTorch.LoadedFrom is { } torchLib)
                candidates.Add(Path.GetFullPath(Path.Combine(torchLib, "..", "..", "nvidia", "nccl", "lib", "libnccl.so.2")));
            candidates.Add("libnccl.so.2");
            foreach (var candidate in candidates)
            {
                if (!NativeLibrary.TryLoad(candidate, out var handle)) continue;
                IntPtr Export(string name) => NativeLibrary.GetExport(handle, name);
                return (new Api
                {
                    GetUniqueId = (delegate* unmanaged<UniqueId*, int>)Export("ncclGetUniqueId"),
                    CommInitRank = (delegate* unmanaged<IntPtr*, int, UniqueId, int, int>)Export("ncclCommInitRank"),
                    CommDestroy = (delegate* unmanaged<IntPtr, int>)Export("ncclCommDestroy"),
                    AllReduce = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)Export("ncclAllReduce"),
                    Broadcast = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)Export("ncclBroadcast"),
                    GetErrorString = (delegate* unmanaged<int, IntPtr>)Export("ncclGetErrorString"),
                }, candidate);
            }
            throw new ConfigurationException(
                $"{who} trains on CUDA, which needs NCCL, but libnccl.so.2 was not found ({string.Join(", ", candidates)}); set {LibraryVariable} to its path.");
        }
    }

    [DllImport("libdl.so.2")]
    static extern IntPtr dlopen(string path, int flags);
}
