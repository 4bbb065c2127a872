using IAR.Host.Runs;
using System.Text.Json;
using IAR.ContractTests;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

public class TrainerTests
{
    static Dictionary<string, Tensor> Weights(string file) => SafeTensorsFile.Open(file).LoadAll();

    static void AssertSameWeights(string expected, string actual)
    {
        var a = Weights(expected);
        var b = Weights(actual);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys) TensorAssert.Identical(a[key], b[key], key);
    }

    /// <summary>Training lines without the fields that measure time.</summary>
    static List<string> LossLines(MetricsLog metrics) =>
        metrics.ReadAll().Select(r => string.Join(",", r.EnumerateObject()
            .Where(p => p.Name is not ("wall_s" or "tokens_per_s")).Select(p => $"{p.Name}={p.Value.GetRawText()}"))).ToList();

    [Fact]
    public void A_cancelled_and_resumed_run_ends_bit_identical_to_an_uninterrupted_one()
    {
        using var setup = new TinyGeneratorSetup();
        var spec = TinyGeneratorSetup.Spec();
        var straightMetrics = new MetricsLog(setup.Dir.File("straight.jsonl"));
        new Trainer(setup.Settings("straight", spec, straightMetrics))
            .Run(setup.Objective(TinyGeneratorSetup.Generator(0), GlobalNoiseTerm.Small));

        var metrics = new MetricsLog(setup.Dir.File("resumed.jsonl"));
        using var cancel = new CancellationTokenSource();
        var interrupted = setup.Settings("resumed", spec, metrics) with
        {
            Cancellation = cancel.Token,
            Evaluate = step => { if (step == 17) cancel.Cancel(); },
            EvaluateEvery = 1,
        };
        Assert.Throws<OperationCanceledException>(() =>
            new Trainer(interrupted).Run(setup.Objective(TinyGeneratorSetup.Generator(0), GlobalNoiseTerm.Small)));
        Assert.False(File.Exists(interrupted.WeightsFile));
        Assert.Contains(17, new CheckpointFolder(Path.Combine(interrupted.Folder, "checkpoints"), 10).List().Select(c => c.Step));

        // a new generator with other initial weights, and other global RNG state: the checkpoint must restore both
        torch.manual_seed(12345);
        var outcome = new Trainer(setup.Settings("resumed", spec, metrics))
            .Run(setup.Objective(TinyGeneratorSetup.Generator(7), GlobalNoiseTerm.Small));
        Assert.Equal(17, outcome.ResumedFrom);
        AssertSameWeights(Path.Combine(setup.Dir.Path, "straight", "generator.safetensors"), outcome.WeightsFile);
        Assert.Equal(LossLines(straightMetrics), LossLines(metrics));
    }

    [Fact]
    public void Resuming_from_a_periodic_checkpoint_after_a_crash_drops_later_metrics_and_ends_identical()
    {
        using var setup = new TinyGeneratorSetup();
        var spec = TinyGeneratorSetup.Spec();
        var metrics = new MetricsLog(setup.Dir.File("m.jsonl"));
        var settings = setup.Settings("job", spec, metrics);
        new Trainer(settings).Run(setup.Objective(TinyGeneratorSetup.Generator(), GlobalNoiseTerm.Small));
        var complete = LossLines(metrics);
        var final = Weights(settings.WeightsFile);

        // the disk as a crash at step 16 leaves it: checkpoints 7 and 14, metrics up to step 16, no final weights
        var folder = new CheckpointFolder(Path.Combine(settings.Folder, "checkpoints"), 10);
        foreach (var (step, path) in folder.List()) if (step > 14) File.Delete(path);
        File.Delete(settings.WeightsFile);
        metrics.RemoveWhere(r => r.GetProperty("step").GetInt64() > 16);

        var outcome = new Trainer(settings).Run(setup.Objective(TinyGeneratorSetup.Generator(3), GlobalNoiseTerm.Small));
        Assert.Equal(14, outcome.ResumedFrom);
        foreach (var (key, tensor) in Weights(settings.WeightsFile)) TensorAssert.Identical(final[key], tensor, key);
        Assert.Equal(complete, LossLines(metrics));
    }

    [Fact]
    public void Metrics_lines_carry_every_term_the_weighted_total_and_the_learning_rate()
    {
        using var setup = new TinyGeneratorSetup();
        var metrics = new MetricsLog(setup.Dir.File("m.jsonl"));
        var spec = TinyGeneratorSetup.Spec(steps: 10) with { LogEvery = 5 };
        new Trainer(setup.Settings("job", spec, metrics)).Run(setup.Objective(TinyGeneratorSetup.Generator(), GlobalNoiseTerm.Small));
        var lines = metrics.ReadAll();
        Assert.Equal([5L, 10L], lines.Select(l => l.GetProperty("step").GetInt64()));
        foreach (var line in lines)
        {
            Assert.Equal("generator", line.GetProperty("stage").GetString());
            Assert.Equal("baseline", line.GetProperty("arm").GetString());
            Assert.Equal(5, line.GetProperty("seed").GetInt32());
            double total = line.GetProperty("loss").GetDouble();
            double weighted = line.GetProperty("loss/token_ce").GetDouble() + 0.01 * line.GetProperty("loss/noise").GetDouble();
            TensorAssert.Close(weighted, total, atol: 1e-6, rtol: 0);
            Assert.True(line.GetProperty("lr").GetDouble() > 0);
            Assert.True(line.GetProperty("grad_norm").GetDouble() > 0);
            Assert.True(line.GetProperty("tokens_per_s").GetDouble() > 0);
            Assert.True(line.GetProperty("wall_s").GetDouble() > 0);
        }
        Assert.True(lines[1].GetProperty("loss/token_ce").GetDouble() < lines[0].GetProperty("loss/token_ce").GetDouble());
    }

    [Fact]
    public void Only_the_newest_checkpoints_are_kept_and_a_finished_job_is_loaded_not_retrained()
    {
        using var setup = new TinyGeneratorSetup();
        var settings = setup.Settings("job", TinyGeneratorSetup.Spec(steps: 20) with { KeepCheckpoints = 2 });
        var first = new Trainer(settings).Run(setup.Objective(TinyGeneratorSetup.Generator()));
        Assert.False(first.AlreadyComplete);
        Assert.Equal([14L, 20L], new CheckpointFolder(Path.Combine(settings.Folder, "checkpoints"), 2).List().Select(c => c.Step));

        var generator = TinyGeneratorSetup.Generator(9);
        var again = new Trainer(settings).Run(setup.Objective(generator));
        Assert.True(again.AlreadyComplete);
        var saved = Weights(settings.WeightsFile);
        foreach (var (key, tensor) in generator.Module.state_dict()) TensorAssert.Identical(saved[key], tensor, key);
    }

    [Fact]
    public void The_evaluation_hook_runs_every_K_steps_and_at_the_end_on_EMA_weights_without_changing_training()
    {
        using var setup = new TinyGeneratorSetup();
        var spec = TinyGeneratorSetup.Spec(steps: 17);
        var plain = setup.Settings("plain", spec);
        new Trainer(plain).Run(setup.Objective(TinyGeneratorSetup.Generator(), GlobalNoiseTerm.Small));

        var generator = TinyGeneratorSetup.Generator();
        var steps = new List<long>();
        Tensor? seenAtEnd = null;
        var observed = setup.Settings("observed", spec) with
        {
            EvaluateEvery = 5,
            Evaluate = step =>
            {
                steps.Add(step);
                Assert.False(generator.Module.training, "evaluation runs in eval mode");
                _ = torch.rand(100);   // sampling draws from the global generator
                if (step == 17) seenAtEnd = generator.Module.state_dict()["logits"].clone();
            },
        };
        new Trainer(observed).Run(setup.Objective(generator, GlobalNoiseTerm.Small));
        Assert.Equal([5L, 10L, 15L, 17L], steps);
        AssertSameWeights(plain.WeightsFile, observed.WeightsFile);
        TensorAssert.Identical(Weights(observed.WeightsFile)["logits"], seenAtEnd!, "the hook saw the EMA weights that are exported");
    }
}
