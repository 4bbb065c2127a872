using IAR.Host.Iar;
using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Serialization;

public class ConvertCommandTests
{
    static string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "checkpoints", name);

    [Fact]
    public void Convert_writes_the_weights_and_training_metadata_as_safetensors()
    {
        using var dir = new TempDir();
        var result = CliRunner.Run("convert", Fixture("llamagen-gpt.pt"), "-o", dir.File("gpt.safetensors"));
        Assert.True(result.ExitCode == 0, result.ToString());
        var written = SafeTensorsFile.Open(dir.File("gpt.safetensors"));
        Assert.Equal("12345", written.Metadata["torch.steps"]);
        using var converted = CheckpointFile.Read(dir.File("gpt.safetensors"));
        using var twin = CheckpointFile.Read(Fixture("state-dict.safetensors"));
        Assert.Equal(twin.Tensors.Keys.Order(), converted.Tensors.Keys.Order());
        foreach (var (name, t) in twin.Tensors) Assert.True(t.bytes.SequenceEqual(converted.Tensors[name].bytes), name);
    }

    [Fact]
    public void Convert_turns_an_iar_mapping_into_a_permutation_file()
    {
        using var dir = new TempDir();
        var result = CliRunner.Run("convert", Fixture("mapping-test.pt"), "-o", dir.File("permutation.safetensors"));
        Assert.True(result.ExitCode == 0, result.ToString());
        var (permutation, _) = CodebookPermutation.Load(dir.File("permutation.safetensors"), 32);
        Assert.Equal(OfficialMapping.Read(Fixture("mapping-test.pt")).Hash, permutation.Hash);
    }

    [Fact]
    public void Convert_of_a_hostile_pickle_fails_with_one_line_and_writes_nothing()
    {
        using var dir = new TempDir();
        var result = CliRunner.Run("convert", Fixture("hostile.pt"), "-o", dir.File("out.safetensors"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'posix.system'", result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.False(File.Exists(dir.File("out.safetensors")));
    }

    [Fact]
    public void Convert_names_the_missing_entry_and_what_the_file_has()
    {
        using var dir = new TempDir();
        var result = CliRunner.Run("convert", Fixture("llamagen-gpt.pt"), "-o", dir.File("x.safetensors"), "--entry", "ema");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("has no dict of tensors under 'ema'", result.Error);
        Assert.Contains("'steps'", result.Error);
    }

    [Fact]
    public void A_run_takes_pytorch_checkpoints_as_yaml_checkpoint_of_tokenizer_and_generator()
    {
        using var experiment = new IAR.Tests.Training.TinyExperiment(steps: 5);
        var run = experiment.Run("run");
        var r = CliRunner.Run(experiment.Arguments(run,
            $"tokenizer.checkpoint={Fixture("fixture-tokenizer.pt")}", $"generator.checkpoint={Fixture("fixture-generator.pt")}"));
        Assert.True(r.ExitCode == 0, r.ToString());
        var log = File.ReadAllText(Path.Combine(run, "run.log"));
        Assert.Contains($"loaded {Fixture("fixture-tokenizer.pt")}", log);
        Assert.True(File.Exists(Path.Combine(run, "arms/baseline/seed-1/generator.safetensors")));
    }
}
