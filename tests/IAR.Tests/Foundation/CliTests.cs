using IAR.Tests.Support;

namespace IAR.Tests.Foundation;

public class CliTests
{
    const string FixtureExperiment = """
        name: cli
        tokenizer: {plugin: FixturePlugin, preset: tiny}
        generator: {plugin: FixturePlugin, preset: tiny}
        evaluation: {metrics: [token-metrics]}
        """;

    [Fact]
    public void Doctor_reports_libtorch_and_why_cuda_is_unavailable()
    {
        var r = CliRunner.Run("doctor");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("2.10", r.Output);
        Assert.Contains("CUDA", r.Output);
        Assert.Contains("262144", r.Output);
    }

    [Fact]
    public void Plugins_lists_LlamaGen_and_VAR()
    {
        var r = CliRunner.Run("plugins", "--plugins", RepoPaths.BuiltPlugins);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("LlamaGen", r.Output);
        Assert.Contains("VAR", r.Output);
    }

    [Fact]
    public void Bad_plugin_folders_exit_with_2_and_one_sentence()
    {
        var missing = CliRunner.Run("plugins", "--plugins", "/no/such/dir");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.Error);
        Assert.DoesNotContain("   at ", missing.Error);   // no stack trace
        using var empty = new TempDir();
        Assert.Equal(2, CliRunner.Run("plugins", "--plugins", empty.Path).ExitCode);
    }

    [Fact]
    public void Validate_accepts_a_good_file_and_reports_unknown_presets_with_the_available_ones()
    {
        using var dir = new TempDir();
        FixturePluginBuild.InstallInto(dir.File("plugins"));
        var good = dir.Write("good.yaml", FixtureExperiment);
        var ok = CliRunner.Run("validate", good, "--plugins", dir.File("plugins"));
        Assert.True(ok.ExitCode == 0, ok.ToString());

        var bad = dir.Write("bad.yaml", FixtureExperiment.Replace("preset: tiny}\ngenerator", "preset: huge}\ngenerator"));
        var r = CliRunner.Run("validate", bad, good, "--plugins", dir.File("plugins"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("bad.yaml:2:", r.Error);
        Assert.Contains("available: tiny", r.Error);

        var unknownPlugin = dir.Write("unknown.yaml", FixtureExperiment.Replace("generator: {plugin: FixturePlugin", "generator: {plugin: Nope"));
        var u = CliRunner.Run("validate", unknownPlugin, "--plugins", dir.File("plugins"));
        Assert.Equal(2, u.ExitCode);
        Assert.Contains("Unknown plugin 'Nope'; available", u.Error);

        var badOption = dir.Write("option.yaml", FixtureExperiment.Replace("preset: tiny}\ngenerator", "preset: tiny, options: {colors: 3}}\ngenerator"));
        var o = CliRunner.Run("validate", badOption, "--plugins", dir.File("plugins"));
        Assert.Equal(2, o.ExitCode);
        Assert.Contains("tokenizer.options.colors is not an option", o.Error);
    }

    [Fact]
    public void Config_errors_exit_with_2_and_write_nothing()
    {
        using var dir = new TempDir();
        FixturePluginBuild.InstallInto(dir.File("plugins"));
        var runs = dir.File("runs");
        var syntax = dir.Write("syntax.yaml", "name: x\ntokenizer: {plugin: [\n");
        var unknownKey = dir.Write("key.yaml", FixtureExperiment + "traning: {steps: 3}\n");
        var wrongType = dir.Write("type.yaml", FixtureExperiment + "seed: abc\n");
        foreach (var file in new[] { syntax, unknownKey, wrongType })
        {
            var r = CliRunner.Run("run", file, "--plugins", dir.File("plugins"), "--runs", runs);
            Assert.True(r.ExitCode == 2, r.ToString());
            Assert.Contains(Path.GetFileName(file) + ":", r.Error);
        }
        var badOverride = CliRunner.Run("run", dir.Write("ok.yaml", FixtureExperiment), "training.nope=1", "--plugins", dir.File("plugins"), "--runs", runs);
        Assert.Equal(2, badOverride.ExitCode);
        Assert.Contains("override 'training.nope=1'", badOverride.Error);
        Assert.False(Directory.Exists(runs), "a run directory was created for an invalid experiment");
    }

    [Fact]
    public void Run_creates_a_numbered_run_directory_with_the_resolved_config()
    {
        using var dir = new TempDir();
        FixturePluginBuild.InstallInto(dir.File("plugins"));
        var file = dir.Write("exp.yaml", FixtureExperiment);
        var runs = dir.File("runs");
        // the run trains a tokenizer and a generator: keep them to a few steps on a few images
        string[] tiny = ["data.train_limit=64", "data.test_limit=16", "tokenizer.training.steps=2", "training.steps=2", "training.batch_size=4"];
        var r = CliRunner.Run(["run", file, "seed=5", .. tiny, "--plugins", dir.File("plugins"), "--runs", runs]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var run = Path.Combine(runs, "001-cli");
        Assert.Contains("seed: 5", File.ReadAllText(Path.Combine(run, "config.yaml")));
        Assert.True(File.Exists(Path.Combine(run, "run.log")));
        Assert.Contains("complete", File.ReadAllText(Path.Combine(run, "status.json")));
        var again = CliRunner.Run(["run", file, "seed=5", .. tiny, "--plugins", dir.File("plugins"), "--runs", runs]);
        Assert.Equal(0, again.ExitCode);
        Assert.True(Directory.Exists(Path.Combine(runs, "002-cli")), "a completed run is not resumed; a new one starts");
    }

    [Fact]
    public void Usage_errors_exit_with_2()
    {
        Assert.Equal(2, CliRunner.Run("run").ExitCode);
        Assert.Equal(2, CliRunner.Run("frobnicate").ExitCode);
    }
}
