using System.IO.Compression;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using IAR.Tests.Training;

namespace IAR.Tests.Evaluation;

/// <summary><c>iar sample</c> against what a run wrote itself, and on a PyTorch checkpoint against its safetensors twin.</summary>
public class SampleCommandTests
{
    const string Arms = """
        iar: {cluster_size: 4}
        arms:
          - name: baseline
          - name: iar
            iar: {enabled: true, lambda: 1}
        """;

    [Fact]
    public void Sampling_a_run_folder_reproduces_each_arms_own_grid_and_writes_images_and_an_adm_archive()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: Arms, evaluation: "{metrics: [token-metrics], every: 20, grid_per_class: 2}");
        var run = experiment.Run("run");
        var r = CliRunner.Run(experiment.Arguments(run));
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var arm in new[] { "baseline", "iar" })
        {
            var output = experiment.Dir.File($"sampled-{arm}");
            var s = CliRunner.Run("sample", "--run", run, "--arm", arm, "--plugins", experiment.Plugins, "--device", "cpu", "-o", output);
            Assert.True(s.ExitCode == 0, s.ToString());
            var own = File.ReadAllBytes(Path.Combine(run, "samples", arm, "seed-1", "grid.png"));
            Assert.True(own.SequenceEqual(File.ReadAllBytes(Path.Combine(output, "grid.png"))), $"{arm}: the grid differs from the run's own");
            Assert.Equal(20, Directory.GetFiles(Path.Combine(output, "images"), "*.png").Length);   // 2 per class, 10 classes
            using var npz = ZipFile.OpenRead(Path.Combine(output, "samples.npz"));
            Assert.Equal(["arr_0.npy", "arr_1.npy"], npz.Entries.Select(e => e.FullName));
        }
        // the fixture generator samples tokens on its own and would ignore the cluster map: refused, not silently plain
        var clusterAware = CliRunner.Run("sample", "--run", run, "--arm", "iar", "--cluster-aware", "--plugins", experiment.Plugins, "--device", "cpu",
            "-o", experiment.Dir.File("clusters"));
        Assert.Equal(2, clusterAware.ExitCode);
        Assert.Contains("does not implement cluster-aware sampling", clusterAware.Error);
        var wrongArm = CliRunner.Run("sample", "--run", run, "--arm", "nope", "--plugins", experiment.Plugins, "-o", experiment.Dir.File("x"));
        Assert.Equal(2, wrongArm.ExitCode);
        Assert.Contains("its arms: baseline, iar", wrongArm.Error);
    }

    [Fact]
    public void A_pytorch_checkpoint_gives_the_same_images_as_its_safetensors_twin()
    {
        using var dir = new TempDir();
        var plugins = dir.File("plugins");
        FixturePluginBuild.InstallInto(plugins);
        string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "checkpoints", name);
        string[] Sample(string extension, string output) =>
        [
            "sample", "--generator", "FixturePlugin/tiny", "--generator-checkpoint", Fixture("fixture-generator" + extension),
            "--tokenizer", "FixturePlugin/tiny", "--tokenizer-checkpoint", Fixture("fixture-tokenizer" + extension),
            "--image", "1x16x16", "--classes", "10", "--count", "24", "--batch-size", "10", "--seed", "3", "--cfg-scale", "2",
            "--top-k", "8", "--plugins", plugins, "--device", "cpu", "--no-images", "-o", output,
        ];
        var fromPt = CliRunner.Run(Sample(".pt", dir.File("pt")));
        Assert.True(fromPt.ExitCode == 0, fromPt.ToString());
        var fromSafetensors = CliRunner.Run(Sample(".safetensors", dir.File("st")));
        Assert.True(fromSafetensors.ExitCode == 0, fromSafetensors.ToString());
        foreach (var file in new[] { "grid.png", "samples.npz" })
            Assert.True(File.ReadAllBytes(dir.File($"pt/{file}")).SequenceEqual(File.ReadAllBytes(dir.File($"st/{file}"))), $"{file} differs");
        Assert.False(Directory.Exists(dir.File("pt/images")));
    }
}
