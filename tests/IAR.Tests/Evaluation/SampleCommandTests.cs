using System.IO.Compression;
using IAR.Host.Evaluation;
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
    public void A_run_that_loaded_its_tokenizer_is_sampled_with_that_file_and_refused_once_the_file_changed()
    {
        using var experiment = new TinyExperiment(steps: 20, evaluation: "{metrics: [token-metrics], every: 20, grid_per_class: 2}");
        var trained = experiment.Run("trained");
        var other = experiment.Run("other");
        foreach (var (run, more) in new[] { (trained, "seed=1"), (other, "seed=2") })
        {
            var r = CliRunner.Run(experiment.Arguments(run, more, "--prepare"));
            Assert.True(r.ExitCode == 0, r.ToString());
        }
        var shipped = experiment.Dir.File("shipped.safetensors");
        File.Copy(Path.Combine(trained, "tokenizer.safetensors"), shipped);
        var loaded = experiment.Run("loaded");
        var run2 = CliRunner.Run(experiment.Arguments(loaded, $"tokenizer.checkpoint={shipped}"));
        Assert.True(run2.ExitCode == 0, run2.ToString());
        Assert.False(File.Exists(Path.Combine(loaded, "tokenizer.safetensors")));   // loaded, not copied

        var sampled = CliRunner.Run("sample", "--run", loaded, "--plugins", experiment.Plugins, "--device", "cpu", "-o", experiment.Dir.File("sampled"));
        Assert.True(sampled.ExitCode == 0, sampled.ToString());
        Assert.True(File.ReadAllBytes(Path.Combine(loaded, "samples", "baseline", "seed-1", "grid.png"))
            .SequenceEqual(File.ReadAllBytes(Path.Combine(experiment.Dir.File("sampled"), "grid.png"))), "the grid differs from the run's own");

        File.Copy(Path.Combine(other, "tokenizer.safetensors"), shipped, overwrite: true);
        var changed = CliRunner.Run("sample", "--run", loaded, "--plugins", experiment.Plugins, "--device", "cpu", "-o", experiment.Dir.File("changed"));
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("the file changed since the run", changed.Error);
        File.Delete(shipped);
        var gone = CliRunner.Run("sample", "--run", loaded, "--plugins", experiment.Plugins, "--device", "cpu", "-o", experiment.Dir.File("gone"));
        Assert.Equal(2, gone.ExitCode);
        Assert.Contains($"tokenizer.checkpoint {shipped} does not exist", gone.Error);
    }

    [MpiFact]
    public void Two_ranks_write_the_archive_grid_and_images_of_one_process_byte_for_byte_with_every_class_per_class_times()
    {
        using var dir = new TempDir();
        var plugins = dir.File("plugins");
        FixturePluginBuild.InstallInto(plugins);
        string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "checkpoints", name);
        // 10 classes × 3 = 30 images in batches of 4: 8 blocks, the last of 2, dealt 4 and 4 to the two ranks.
        string[] Sample(string output, params string[] labels) =>
        [
            "sample", "--generator", "FixturePlugin/tiny", "--generator-checkpoint", Fixture("fixture-generator.safetensors"),
            "--tokenizer", "FixturePlugin/tiny", "--tokenizer-checkpoint", Fixture("fixture-tokenizer.safetensors"),
            "--image", "1x16x16", "--classes", "10", "--labels", "all", .. labels, "--batch-size", "4", "--seed", "3",
            "--plugins", plugins, "--device", "cpu", "-o", output,
        ];
        void AssertSameFiles(string one, string two)
        {
            var files = Directory.GetFiles(one, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(one, f)).Order().ToArray();
            Assert.Equal(files, Directory.GetFiles(two, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(two, f)).Order());
            foreach (var file in files)
                Assert.True(File.ReadAllBytes(Path.Combine(one, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(two, file))), $"{file} differs between one process and two ranks");
        }
        long[] LabelsOf(string output)
        {
            using var reader = AdmSampleReader.Open(Path.Combine(output, "samples.npz"));
            return reader.Labels!;
        }

        var one = CliRunner.Run(Sample(dir.File("one"), "--per-class", "3"));
        Assert.True(one.ExitCode == 0, one.ToString());
        using (var p = new IarProcess(Sample(dir.File("two"), "--per-class", "3"), DataParallelTests.MpiRun))
        {
            Assert.True(p.WaitForExit() == 0, p.Output);
            Assert.Contains("rank 0 of 2", p.Output);   // rank 0 alone prints the summary, naming the group
        }
        AssertSameFiles(dir.File("one"), dir.File("two"));   // samples.npz, grid.png, images/*.png; no parts folder left
        var counts = LabelsOf(dir.File("two")).CountBy(l => l).ToDictionary();
        Assert.Equal(Enumerable.Range(0, 10).Select(c => (long)c), counts.Keys.Order());
        Assert.All(counts.Values, n => Assert.Equal(3, n));

        // Random labels: drawn once from the seed, the same on every rank.
        var random = CliRunner.Run(Sample(dir.File("random-one"), "--count", "30", "--random-labels", "--no-images"));
        Assert.True(random.ExitCode == 0, random.ToString());
        using (var p = new IarProcess(Sample(dir.File("random-two"), "--count", "30", "--random-labels", "--no-images"), DataParallelTests.MpiRun))
            Assert.True(p.WaitForExit() == 0, p.Output);
        AssertSameFiles(dir.File("random-one"), dir.File("random-two"));
        var drawn = LabelsOf(dir.File("random-two"));
        Assert.Equal(30, drawn.Length);
        Assert.NotEqual(Enumerable.Range(0, 30).Select(i => (long)(i % 10)), drawn);   // not the cycling labels
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
