using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Distributed;

/// <summary>
/// The ranks joined through Open MPI (Debian's <c>libmpi.so.40</c>, called through P/Invoke): the collectives on CPU
/// tensors and the host-side agreements of every backend. Each collective is started non-blocking and then polled, so a
/// wait can notice what a blocking call cannot: a rank on this machine that exited (its process is gone), the timeout
/// (<c>IAR_DISTRIBUTED_TIMEOUT_S</c>, default 1800 s), or this process being stopped while its peers never come.
/// </summary>
public sealed unsafe class MpiProcessGroup : ProcessGroup
{
    public const string TimeoutVariable = "IAR_DISTRIBUTED_TIMEOUT_S";

    /// <summary>How long a rank stopped by a signal keeps waiting for the others before it gives up on a collective.</summary>
    static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(20);

    static readonly IntPtr InPlace = 1;   // Open MPI's MPI_IN_PLACE

    readonly Api api;
    readonly CancellationToken cancellation;
    readonly TimeSpan timeout;
    readonly Peer[] peers;
    readonly int rank, size;
    bool finished;

    MpiProcessGroup(Api api, CancellationToken cancellation, TimeSpan timeout)
    {
        this.api = api;
        this.cancellation = cancellation;
        this.timeout = timeout;
        int r, s;
        Check(api.CommRank(api.World, &r), "MPI_Comm_rank");
        Check(api.CommSize(api.World, &s), "MPI_Comm_size");
        (rank, size) = (r, s);
        peers = new Peer[size];   // filled by ExchangeIdentities; until then a wait cannot name a lost rank
        ExchangeIdentities();
    }

    /// <summary>Loads libmpi, initialises MPI and learns every rank's process, for naming a lost one.</summary>
    /// <exception cref="ConfigurationException">Open MPI is not installed.</exception>
    public static MpiProcessGroup Join(DistributedLaunch launch, CancellationToken cancellation)
    {
        var api = Api.Load(launch);
        int initialised;
        Check(api.Initialized(&initialised), "MPI_Initialized");
        if (initialised == 0) Check(api.Init(null, null), "MPI_Init");
        return new MpiProcessGroup(api, cancellation, ReadTimeout());
    }

    static TimeSpan ReadTimeout()
    {
        var text = Environment.GetEnvironmentVariable(TimeoutVariable);
        if (string.IsNullOrEmpty(text)) return TimeSpan.FromMinutes(30);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : throw new ConfigurationException($"Environment variable {TimeoutVariable}='{text}' is not a positive number of seconds.");
    }

    public override int Rank => rank;
    public override int Size => size;

    public override string Describe() => $"rank {rank} of {size}, MPI ({api.Library}), pid {Environment.ProcessId}";

    public override void SumInPlace(Tensor tensor, string what) =>
        InChunks(tensor, what, "MPI_Iallreduce", (data, count, type, request) => api.Iallreduce(InPlace, data, count, type, api.Sum, api.World, request));

    public override void Broadcast(Tensor tensor, string what) =>
        InChunks(tensor, what, "MPI_Ibcast", (data, count, type, request) => api.Ibcast(data, count, type, 0, api.World, request));

    delegate int Collective(IntPtr data, int count, IntPtr type, IntPtr* request);

    /// <summary>One collective per chunk of a CPU tensor's elements: MPI counts are int.</summary>
    void InChunks(Tensor tensor, string what, string call, Collective start)
    {
        var type = DataType(tensor, what);
        var data = DataOf(tensor, what);
        long total = tensor.NumberOfElements, element = tensor.ElementSize;
        for (long first = 0; first < total; first += ChunkElements)
        {
            IntPtr request;
            Check(start(data + (nint)(first * element), (int)Math.Min(ChunkElements, total - first), type, &request), call);
            Wait(&request, what);
        }
    }

    public override bool[] AnyEach(bool[] local, string what)
    {
        var values = local.Select(b => b ? 1 : 0).ToArray();
        fixed (int* p = values)
        {
            IntPtr request;
            Check(api.Iallreduce(InPlace, (IntPtr)p, values.Length, api.Int, api.Max, api.World, &request), "MPI_Iallreduce");
            Wait(&request, what);
        }
        return values.Select(v => v != 0).ToArray();
    }

    public override byte[] Broadcast(byte[] mine, string what)
    {
        int length = mine.Length;
        IntPtr request;
        Check(api.Ibcast((IntPtr)(&length), 1, api.Int, 0, api.World, &request), "MPI_Ibcast");
        Wait(&request, what);
        var buffer = rank == 0 ? mine : new byte[length];
        fixed (byte* p = buffer)
        {
            if (length > 0)
            {
                Check(api.Ibcast((IntPtr)p, length, api.Byte, 0, api.World, &request), "MPI_Ibcast");
                Wait(&request, what);
            }
        }
        return buffer;
    }

    public override byte[][]? Gather(byte[] mine, string what)
    {
        var all = rank == 0 ? new byte[mine.Length * size] : [];
        fixed (byte* send = mine)
        fixed (byte* receive = all)
        {
            IntPtr request;
            Check(api.Igather((IntPtr)send, mine.Length, api.Byte, (IntPtr)receive, mine.Length, api.Byte, 0, api.World, &request), "MPI_Igather");
            Wait(&request, what);
        }
        return rank == 0 ? Enumerable.Range(0, size).Select(r => all.AsSpan(r * mine.Length, mine.Length).ToArray()).ToArray() : null;
    }

    public override void Barrier(string what)
    {
        IntPtr request;
        Check(api.Ibarrier(api.World, &request), "MPI_Ibarrier");
        Wait(&request, what);
    }

    /// <summary>Called when this rank ends without an error: MPI is finalised (it waits for every rank to get here).</summary>
    public override void Finish() => finished = true;

    public override void Dispose()
    {
        // After a failure the peers may be gone; MPI_Finalize would wait for them, so the process just exits and the
        // launcher reports it.
        if (finished) api.Finalize();
        base.Dispose();
    }

    const long ChunkElements = 1L << 28;

    IntPtr DataType(Tensor tensor, string what) => tensor.dtype switch
    {
        ScalarType.Float32 => api.Float,
        ScalarType.Float64 => api.Double,
        _ => throw new ArgumentException($"{what}: MPI sums float32 and float64 tensors, not {tensor.dtype}."),
    };

    /// <summary>The address of a CPU tensor's elements: libtorch's memory, which nothing moves while a collective runs.</summary>
    static IntPtr DataOf(Tensor tensor, string what)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException($"{what}: the MPI backend works on contiguous CPU tensors (this one is on {tensor.device}).");
        fixed (byte* p = tensor.bytes) return (IntPtr)p;
    }

    /// <summary>
    /// Polls <paramref name="request"/> to completion: spins for the first milliseconds (a step's collectives usually
    /// finish there), then yields; every second it checks the ranks of this machine and the deadlines.
    /// </summary>
    void Wait(IntPtr* request, string what)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan nextCheck = TimeSpan.FromSeconds(1);
        TimeSpan? stoppedAt = null;
        while (true)
        {
            int done;
            Check(api.Test(request, &done, IntPtr.Zero), "MPI_Test");
            if (done != 0) return;
            var waited = clock.Elapsed;
            if (waited < TimeSpan.FromMilliseconds(2)) { Thread.SpinWait(50); continue; }
            Thread.Sleep(waited < TimeSpan.FromMilliseconds(200) ? 0 : 1);
            if (waited < nextCheck) continue;
            nextCheck = waited + TimeSpan.FromSeconds(1);
            if (LostPeer() is { } lost)
                throw new RankLostException(
                    $"rank {rank} of {size}: rank {lost.Rank} (pid {lost.Pid}, this machine) exited while this rank waited for {what}; this rank stops too. " +
                    "Run the same command again: every rank resumes from the job's last checkpoint.");
            if (cancellation.IsCancellationRequested) stoppedAt ??= waited;
            if (stoppedAt is { } since && waited - since > StopGrace)
                throw new RankLostException(
                    $"rank {rank} of {size}: stopped by a signal while waiting for {what}, and the other ranks did not come within {StopGrace.TotalSeconds:F0} s; " +
                    "no checkpoint was written for this step. Run the same command again to resume from the last one.");
            if (waited > timeout)
                throw new RankLostException(
                    $"rank {rank} of {size}: no answer from the other ranks for {waited.TotalSeconds:F0} s while waiting for {what} " +
                    $"(a rank on another machine may be gone; {TimeoutVariable} sets the limit). Run the same command again to resume from the last checkpoint.");
        }
    }

    /// <summary>One rank's process as the others see it: pid, and the machine and pid namespace it lives in.</summary>
    readonly record struct Peer(int Rank, int Pid, string Machine);

    const int IdentityBytes = 128;

    void ExchangeIdentities()
    {
        var mine = new byte[IdentityBytes];
        BitConverter.TryWriteBytes(mine, Environment.ProcessId);
        var machine = Encoding.UTF8.GetBytes(Machine());
        machine.AsSpan(0, Math.Min(machine.Length, IdentityBytes - 4)).CopyTo(mine.AsSpan(4));
        var all = new byte[IdentityBytes * size];
        fixed (byte* send = mine)
        fixed (byte* receive = all)
        {
            IntPtr request;
            Check(api.Iallgather((IntPtr)send, IdentityBytes, api.Byte, (IntPtr)receive, IdentityBytes, api.Byte, api.World, &request), "MPI_Iallgather");
            Wait(&request, "the ranks' process ids");
        }
        for (int r = 0; r < size; r++)
        {
            var record = all.AsSpan(r * IdentityBytes, IdentityBytes);
            peers[r] = new Peer(r, BitConverter.ToInt32(record), Encoding.UTF8.GetString(record[4..]).TrimEnd('\0'));
        }
    }

    /// <summary>A process id means the same process only on the same machine and in the same pid namespace.</summary>
    static string Machine()
    {
        string ns;
        try { ns = new FileInfo("/proc/self/ns/pid").LinkTarget ?? ""; }
        catch (IOException) { ns = ""; }
        var encoded = Encoding.UTF8.GetBytes($"{Environment.MachineName}|{ns}");
        return Encoding.UTF8.GetString(encoded, 0, Math.Min(encoded.Length, IdentityBytes - 4));
    }

    /// <summary>A rank of this machine whose process has exited (gone, or a zombie its launcher has not reaped yet).</summary>
    Peer? LostPeer()
    {
        var here = Machine();
        foreach (var peer in peers)
        {
            if (peer.Rank == rank || peer.Machine != here || peer.Pid <= 0) continue;
            string stat;
            try { stat = File.ReadAllText($"/proc/{peer.Pid}/stat"); }
            catch (IOException) { return peer; }
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            if (state is 'Z' or 'X') return peer;
        }
        return null;
    }

    static void Check(int code, string call)
    {
        // Open MPI's default error handler aborts the job first; this is for a handler that returns.
        if (code != 0) throw new RunFailedException($"{call} failed with MPI error {code}.");
    }

    /// <summary>The MPI entry points and Open MPI's predefined handles (exported objects whose addresses are the handles).</summary>
    sealed class Api
    {
        public required string Library { get; init; }
        public required IntPtr World, Float, Double, Int, Byte, Sum, Max;
        public required delegate* unmanaged<int*, int> Initialized;
        public required delegate* unmanaged<int*, byte***, int> Init;
        public required delegate* unmanaged<int> Finalize;
        public required delegate* unmanaged<IntPtr, int*, int> CommRank, CommSize;
        public required delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int> Iallreduce;
        public required delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, IntPtr*, int> Ibcast;
        public required delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, int, IntPtr, IntPtr*, int> Igather;
        public required delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr*, int> Iallgather;
        public required delegate* unmanaged<IntPtr, IntPtr*, int> Ibarrier;
        public required delegate* unmanaged<IntPtr*, int*, IntPtr, int> Test;

        static Api? loaded;

        public static Api Load(DistributedLaunch launch)
        {
            if (loaded is not null) return loaded;
            // Open MPI's components (mca_*.so) resolve libmpi's symbols globally: it must be opened RTLD_GLOBAL.
            const int Now = 2, Global = 0x100;
            string[] candidates = [Environment.GetEnvironmentVariable("IAR_MPI_LIBRARY") ?? "", "libmpi.so.40", "libmpi.so"];
            IntPtr handle = 0;
            string library = "";
            foreach (var candidate in candidates.Where(c => c.Length > 0))
            {
                handle = dlopen(candidate, Now | Global);
                if (handle != 0) { library = candidate; break; }
            }
            if (handle == 0)
                throw new ConfigurationException(
                    $"This process is {launch}, but Open MPI's libmpi.so.40 cannot be loaded ({Marshal.PtrToStringUTF8(dlerror())}); " +
                    "install openmpi-bin and libopenmpi-dev (Debian) or set IAR_MPI_LIBRARY to its path.");
            IntPtr Export(string name) => NativeLibrary.GetExport(handle, name);
            return loaded = new Api
            {
                Library = library,
                World = Export("ompi_mpi_comm_world"),
                Float = Export("ompi_mpi_float"),
                Double = Export("ompi_mpi_double"),
                Int = Export("ompi_mpi_int"),
                Byte = Export("ompi_mpi_byte"),
                Sum = Export("ompi_mpi_op_sum"),
                Max = Export("ompi_mpi_op_max"),
                Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized"),
                Init = (delegate* unmanaged<int*, byte***, int>)Export("MPI_Init"),
                Finalize = (delegate* unmanaged<int>)Export("MPI_Finalize"),
                CommRank = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_rank"),
                CommSize = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_size"),
                Iallreduce = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int>)Export("MPI_Iallreduce"),
                Ibcast = (delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, IntPtr*, int>)Export("MPI_Ibcast"),
                Igather = (delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, int, IntPtr, IntPtr*, int>)Export("MPI_Igather"),
                Iallgather = (delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr*, int>)Export("MPI_Iallgather"),
                Ibarrier = (delegate* unmanaged<IntPtr, IntPtr*, int>)Export("MPI_Ibarrier"),
                Test = (delegate* unmanaged<IntPtr*, int*, IntPtr, int>)Export("MPI_Test"),
            };
        }

        [DllImport("libdl.so.2")]
        static extern IntPtr dlopen(string path, int flags);

        [DllImport("libdl.so.2")]
        static extern IntPtr dlerror();
    }
}
