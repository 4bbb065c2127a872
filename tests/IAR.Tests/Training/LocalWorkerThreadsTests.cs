using IAR.Host.Cli;
using IAR.Tests.Support;

namespace IAR.Tests.Training;

/// <summary>Local workers share the machine's cores: cores / N libtorch threads each, unless the experiment sets <c>threads:</c>.</summary>
public class LocalWorkerThreadsTests
{
    [Theory]
    [InlineData(0, 16, 1, null)]     // alone: libtorch's default
    [InlineData(0, 16, 4, 4)]        // four workers or ranks on 16 cores
    [InlineData(0, 16, 3, 5)]
    [InlineData(0, 2, 4, 1)]         // more processes than cores: one thread each
    [InlineData(3, 16, 4, 3)]        // threads: in the experiment wins
    [InlineData(3, 16, 1, 3)]
    public void Each_process_gets_its_share_of_the_cores_unless_threads_is_set(int configured, int cores, int processes, int? expected) =>
        Assert.Equal(expected, ThreadShare.PerProcess(configured, cores, processes));

    [Fact]
    public void Two_workers_each_take_half_the_cores_and_the_experiments_threads_win()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: "seeds: [1, 2]");
        var share = experiment.Run("share");
        var two = CliRunner.Run([.. experiment.Arguments(share), "threads=0", "--workers", "2"]);
        Assert.True(two.ExitCode == 0, two.ToString());
        int half = Math.Max(1, Environment.ProcessorCount / 2);
        Assert.Contains($"[worker 0] ", two.Output);
        Assert.Contains($"local worker 0 of 2, {half} threads", two.Output);
        Assert.Contains($"local worker 1 of 2, {half} threads", two.Output);

        var configured = experiment.Run("configured");
        var set = CliRunner.Run([.. experiment.Arguments(configured), "threads=3", "--workers", "2"]);
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("local worker 0 of 2, 3 threads", set.Output);
    }
}
