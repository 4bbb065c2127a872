using System.Globalization;
using IAR.Abstractions;

namespace IAR.Host.Distributed;

/// <summary>
/// Where this process stands in a data-parallel launch, read from the launcher's variables: Open MPI's <c>mpirun</c>
/// (<c>OMPI_COMM_WORLD_*</c>), Slurm's <c>srun</c> (<c>SLURM_PROCID</c>, <c>SLURM_STEP_NUM_TASKS</c>, <c>SLURM_LOCALID</c>)
/// or a torchrun-style launcher (<c>RANK</c>, <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>). One process without any of them is rank 0 of 1.
/// </summary>
public sealed record DistributedLaunch(int Rank, int Size, int LocalRank, int LocalSize, string Launcher)
{
    public static readonly DistributedLaunch Single = new(0, 1, 0, 1, "none");

    /// <exception cref="ConfigurationException">A launcher variable that is not a number, or a rank outside 0 … size − 1.</exception>
    public static DistributedLaunch FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        int? Int(string name)
        {
            var text = read(name);
            if (string.IsNullOrEmpty(text)) return null;
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
                ? v : throw new ConfigurationException($"Environment variable {name}='{text}' is not a non-negative integer.");
        }
        DistributedLaunch Checked(string launcher, string rankName, int rank, int size, int localRank, int localSize) =>
            size >= 1 && rank < size && localRank < Math.Max(localSize, 1)
                ? new DistributedLaunch(rank, size, localRank, Math.Max(localSize, 1), launcher)
                : throw new ConfigurationException($"Environment variable {rankName}={rank} is not a rank of {size} processes (0 … {size - 1} is accepted).");

        if (Int("OMPI_COMM_WORLD_SIZE") is int ompi)
            return Checked("mpirun", "OMPI_COMM_WORLD_RANK", Int("OMPI_COMM_WORLD_RANK") ?? 0, ompi,
                Int("OMPI_COMM_WORLD_LOCAL_RANK") ?? 0, Int("OMPI_COMM_WORLD_LOCAL_SIZE") ?? 1);
        // SLURM_STEP_NUM_TASKS exists only inside an srun step (a batch script with --ntasks=2 is still one process).
        if (Int("SLURM_STEP_NUM_TASKS") is int tasks)
            return Checked("srun", "SLURM_PROCID", Int("SLURM_PROCID") ?? 0, tasks, Int("SLURM_LOCALID") ?? 0, LocalTasks(read("SLURM_STEP_TASKS_PER_NODE")));
        if (Int("WORLD_SIZE") is int world)
            return Checked("env", "RANK", Int("RANK") ?? 0, world, Int("LOCAL_RANK") ?? 0, Int("LOCAL_WORLD_SIZE") ?? world);
        return Single;
    }

    /// <summary>The first node's count of <c>SLURM_STEP_TASKS_PER_NODE</c> (<c>2(x3)</c> or <c>2,1</c>); 1 when absent.</summary>
    static int LocalTasks(string? text)
    {
        var first = (text ?? "1").Split(',')[0];
        var count = first.Split('(')[0];
        return int.TryParse(count, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;
    }

    public override string ToString() => $"rank {Rank} of {Size} ({Launcher})";
}
