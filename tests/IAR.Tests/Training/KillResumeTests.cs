using IAR.Host.Runs;
using System.Diagnostics;
using System.Text.Json;
using IAR.Tests.Support;

namespace IAR.Tests.Training;

/// <summary>
/// The acceptance test of resume: the built <c>iar</c> is killed with SIGKILL mid-way through tokenizer training and
/// again mid-way through generator training, restarted each time, and must end with the same bytes as a run that
/// was never interrupted.
/// </summary>
public class KillResumeTests
{
    static int RunToEnd(TinyExperiment experiment, string runDir, out string output)
    {
        using var p = new IarProcess(experiment.Arguments(runDir));
        int code = p.WaitForExit();
        output = p.Output;
        return code;
    }

    /// <summary>Every metrics.jsonl line of the run without the timing fields, as a sorted list (a resumed run re-appends the tokenizer report).</summary>
    internal static List<string> Metrics(string runDir) =>
        IAR.Host.Runs.MetricsLog.ReadRun(runDir)
            .Select(r => string.Join(",", r.EnumerateObject().Where(p => p.Name is not ("wall_s" or "tokens_per_s" or "images_per_s"))
                .Select(p => $"{p.Name}={p.Value.GetRawText()}")))
            .Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void A_run_killed_twice_with_SIGKILL_and_restarted_ends_bit_identical_to_an_uninterrupted_one()
    {
        using var experiment = new TinyExperiment();
        var clean = experiment.Run("clean");
        Assert.True(RunToEnd(experiment, clean, out var cleanOutput) == 0, cleanOutput);

        var killed = experiment.Run("killed");
        using (var first = new IarProcess(experiment.Arguments(killed)))
            first.KillWhenCheckpointIn(Path.Combine(killed, "tokenizer", "checkpoints"));
        Assert.False(File.Exists(Path.Combine(killed, "tokenizer.safetensors")), "the first kill came after tokenizer training had finished");

        var generatorCheckpoints = Path.Combine(killed, "arms", "baseline", "seed-1", "checkpoints");
        using (var second = new IarProcess(experiment.Arguments(killed)))
            second.KillWhenCheckpointIn(generatorCheckpoints);
        Assert.False(File.Exists(Path.Combine(killed, "arms", "baseline", "seed-1", "generator.safetensors")),
            "the second kill came after generator training had finished");

        Assert.True(RunToEnd(experiment, killed, out var resumedOutput) == 0, resumedOutput);
        Assert.Contains("resuming from step", resumedOutput);

        foreach (var file in new[] { "tokenizer.safetensors", "tokens/train.safetensors", "tokens/test.safetensors", "arms/baseline/seed-1/generator.safetensors" })
            Assert.True(File.ReadAllBytes(Path.Combine(clean, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(killed, file))),
                $"{file} differs between the uninterrupted and the killed-and-resumed run");
        Assert.Equal(Metrics(clean), Metrics(killed));
        Assert.Contains("\"state\": \"complete\"", File.ReadAllText(Path.Combine(killed, "status.json")));
    }
}
