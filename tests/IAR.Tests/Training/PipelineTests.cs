using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Training;

[Collection(GlobalTorchRandomCollection.Name)]
public class PipelineTests
{
    [Fact]
    public void Iar_run_trains_the_tokenizer_caches_tokens_trains_the_generator_and_a_rerun_loads_them()
    {
        using var experiment = new TinyExperiment(steps: 40);
        var run = experiment.Run("run");
        var first = CliRunner.Run(experiment.Arguments(run));
        Assert.True(first.ExitCode == 0, first.ToString());
        foreach (var file in new[] { "tokenizer.safetensors", "tokens/train.safetensors", "tokens/test.safetensors", "arms/baseline/seed-1/generator.safetensors" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} is missing");
        var cache = SafeTensorsFile.Open(Path.Combine(run, "tokens/train.safetensors"));
        Assert.Equal(new long[] { 1000, 2, 64 }, cache.Entry("tokens").Shape);   // flips → two variants of 8x8 tokens
        var generator = SafeTensorsFile.Open(Path.Combine(run, "arms/baseline/seed-1/generator.safetensors")).Metadata;
        Assert.Equal("identity", generator["iar.permutation"]);
        Assert.Equal(cache.Metadata["iar.tokenizer"], generator["iar.tokenizer"]);

        var metrics = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Contains(metrics, l => l.Contains("\"stage\":\"tokenizer\"") && l.Contains("\"loss/reconstruction_l2\""));
        Assert.Contains(metrics, l => l.Contains("\"stage\":\"tokenizer\"") && l.Contains("\"psnr\""));
        Assert.Contains(metrics, l => l.Contains("\"stage\":\"generator\"") && l.Contains("\"arm\":\"baseline\"") && l.Contains("\"loss/token_ce\""));
        Assert.Contains("held-out PSNR", first.Output);

        var before = File.ReadAllBytes(Path.Combine(run, "arms/baseline/seed-1/generator.safetensors"));
        Directory.Delete(Path.Combine(run, "arms/baseline/seed-1/checkpoints"), recursive: true);   // a rerun must not need them
        var again = CliRunner.Run(experiment.Arguments(run));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("already trained", again.Output);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, "arms/baseline/seed-1/generator.safetensors")));
        Assert.Equal(metrics.Length, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
    }

    [Fact]
    public void Labels_out_of_range_fail_the_run_with_exit_1_and_the_file_named()
    {
        using var experiment = new TinyExperiment(steps: 5);
        var data = experiment.Dir.File("bad-data");
        Directory.CreateDirectory(data);
        var source = Path.Combine(RepoPaths.Experiments, "data", "fashion-mnist-subset");
        foreach (var f in Directory.GetFiles(source, "*.gz")) File.Copy(f, Path.Combine(data, Path.GetFileName(f)));
        var labels = IAR.Host.Data.IdxFile.Read(Path.Combine(data, "train-labels-idx1-ubyte.gz"));
        labels.Data[17] = 10;
        IAR.Host.Data.IdxFile.Write(Path.Combine(data, "train-labels-idx1-ubyte.gz"), labels.Dimensions, labels.Data);
        var r = CliRunner.Run([.. experiment.Arguments(experiment.Run("run")), $"data.path={data}"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("train-labels-idx1-ubyte.gz: label 10 of image 17 is out of range", r.Error);
        Assert.Contains("\"state\": \"failed\"", File.ReadAllText(Path.Combine(experiment.Run("run"), "status.json")));
    }

    [Fact]
    public void An_unwritable_run_directory_is_one_clear_error_with_exit_1()
    {
        using var experiment = new TinyExperiment(steps: 5);
        File.WriteAllText(experiment.Dir.File("blocker"), "a file, not a folder");
        var r = CliRunner.Run(experiment.Arguments(Path.Combine(experiment.Dir.File("blocker"), "run")));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("blocker", r.Error);
        Assert.DoesNotContain("   at ", r.Error);
    }

    [Fact]
    public void An_arm_with_iar_enabled_is_refused_while_the_baseline_job_factory_is_wired()
    {
        using var experiment = new TinyExperiment(steps: 5);
        var r = CliRunner.Run([.. experiment.Arguments(experiment.Run("run")), "iar.enabled=true"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("sets iar.enabled", r.Error);
    }
}
