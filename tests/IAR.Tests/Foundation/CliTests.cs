using IAR.Host.Runs;
using System.Diagnostics;
using IAR.Host.Cli;
using IAR.Host.Experiments;
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
        // The CUDA row states the reason, not only its label. The tests run on TorchSharp-cpu's bundled libtorch, so
        // the reason is the CPU-only build (told apart by its files, as a user would); on a CUDA machine the row
        // counts devices instead.
        var row = r.Output.Split('\n').SingleOrDefault(l => l.Contains("│ CUDA ") || l.TrimStart().StartsWith("CUDA "));
        Assert.True(row is not null, $"no CUDA row in:\n{r.Output}");
        if (TorchSharp.torch.cuda.is_available())
            Assert.Contains($"available, {TorchSharp.torch.cuda.device_count()} device(s)", row);
        else if (File.Exists(Path.Combine(AppContext.BaseDirectory, "libtorch_cpu.so")) && !File.Exists(Path.Combine(AppContext.BaseDirectory, "libtorch_cuda.so")))
            Assert.Contains("not available: this build bundles the CPU-only libtorch of TorchSharp-cpu (libtorch_cuda.so is absent)", row);
        else
            Assert.Contains("not available: ", row);
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
    public void Validate_takes_the_same_overrides_as_run()
    {
        using var dir = new TempDir();
        FixturePluginBuild.InstallInto(dir.File("plugins"));
        var good = dir.Write("good.yaml", FixtureExperiment);
        var other = dir.Write("other.yaml", FixtureExperiment);

        var ok = CliRunner.Run("validate", good, other, "training.steps=3", "--plugins", dir.File("plugins"));
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal(2, ok.Output.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));

        // An override is applied to every file: a preset that does not exist fails both.
        var preset = CliRunner.Run("validate", good, other, "tokenizer.preset=huge", "--plugins", dir.File("plugins"));
        Assert.Equal(2, preset.ExitCode);
        Assert.Equal(2, preset.Error.Split('\n').Count(l => l.Contains("available: tiny", StringComparison.Ordinal)));

        var unknown = CliRunner.Run("validate", good, "training.nope=1", "--plugins", dir.File("plugins"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("override 'training.nope=1'", unknown.Error);

        var delete = CliRunner.Run("validate", good, "~seed", "--plugins", dir.File("plugins"));
        Assert.Equal(2, delete.ExitCode);
        Assert.Contains("override '~seed'", delete.Error);
        Assert.Contains("cannot be deleted", delete.Error);

        var onlyOverrides = CliRunner.Run("validate", "training.steps=3", "--plugins", dir.File("plugins"));
        Assert.Equal(2, onlyOverrides.ExitCode);
        Assert.Contains("give at least one experiment file", onlyOverrides.Error);
    }

    [Fact]
    public async Task A_log_line_longer_than_80_columns_stays_one_line_in_a_file_or_pipe()
    {
        using var dir = new TempDir();
        var message = "step 100/100 " + string.Join(" ", Enumerable.Range(0, 30).Select(i => $"metric_{i}=0.{i:D3}"));
        Assert.True(message.Length > 200);
        var output = new StringWriter();
        using (var log = new RunLog(dir.File("run.log"), ConsoleOutput.ForWriters(output, new StringWriter())))
            log.Info(message);
        Assert.Equal(message, output.ToString().TrimEnd('\n', '\r'));
        Assert.Single(File.ReadAllLines(dir.File("run.log")), l => l.EndsWith(message, StringComparison.Ordinal));

        // The real console with stdout redirected to a pipe, as `iar run … | tee` or `> out.txt` sees it.
        FixturePluginBuild.InstallInto(dir.File("plugins"));
        var file = dir.Write(new string('x', 120) + ".yaml", FixtureExperiment);
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "iar.dll"), "validate", file, "--plugins", dir.File("plugins")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, await stdout + await stderr);
        var line = Assert.Single((await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ok ", line);
        Assert.Contains(file, line);
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
