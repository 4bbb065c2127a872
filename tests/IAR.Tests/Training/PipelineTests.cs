using IAR.Host.Runs;
using System.Text.Json;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Training;

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

        var metrics = MetricsLog.ReadRun(run).Select(r => r.GetRawText()).ToArray();
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
        Assert.Equal(metrics.Length, MetricsLog.ReadRun(run).Count);
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

    const string Ablation = """
        iar: {cluster_size: 4}
        arms:
          - name: baseline
          - name: iar
            iar: {enabled: true, lambda: 1}
          - name: random
            iar: {enabled: true, clustering: random}
        """;

    [Fact]
    public void An_ablation_rearranges_iar_arms_trains_them_with_the_cluster_term_evaluates_every_arm_and_writes_the_report()
    {
        using var experiment = new TinyExperiment(steps: 40, extra: Ablation,
            evaluation: "{every: 20, num_samples: 130, batch_size: 65, feature_extractor_steps: 20, grid_per_class: 2}");
        var run = experiment.Run("run");
        var r = CliRunner.Run(experiment.Arguments(run));
        Assert.True(r.ExitCode == 0, r.ToString());

        // each IAR arm trains in the numbering of its own permutation, recorded beside it and in its weights
        var permutations = new Dictionary<string, string>();
        foreach (var arm in new[] { "iar", "random" })
        {
            var (permutation, layout) = CodebookPermutation.Load(Path.Combine(run, $"arms/{arm}/seed-1/permutation.safetensors"), 16);
            Assert.False(permutation.IsIdentity);
            Assert.Equal([4, 4, 4, 4], layout!.Sizes);
            Assert.Equal(permutation.Hash, SafeTensorsFile.Open(Path.Combine(run, $"arms/{arm}/seed-1/generator.safetensors")).Metadata["iar.permutation"]);
            permutations[arm] = permutation.Hash;
        }
        Assert.NotEqual(permutations["iar"], permutations["random"]);
        Assert.Equal("identity", SafeTensorsFile.Open(Path.Combine(run, "arms/baseline/seed-1/generator.safetensors")).Metadata["iar.permutation"]);

        var records = MetricsLog.ReadRun(run);
        bool Is(JsonElement r, string stage, string arm) => r.GetProperty("stage").GetString() == stage && r.GetProperty("arm").GetString() == arm;
        Assert.Contains(records, x => Is(x, "generator", "iar") && x.TryGetProperty("loss/cluster_ce", out _));
        Assert.DoesNotContain(records, x => Is(x, "generator", "baseline") && x.TryGetProperty("loss/cluster_ce", out _));
        foreach (var arm in new[] { "baseline", "iar", "random" })
        {
            var evals = records.Where(x => Is(x, "eval", arm)).ToArray();
            Assert.Equal([20L, 40L], evals.Select(x => x.GetProperty("step").GetInt64()));
            foreach (var metric in new[] { "fid", "inception_score", "precision", "recall", "class_accuracy", "token_nll", "token_accuracy", "cluster_accuracy" })
                Assert.True(evals.All(x => x.TryGetProperty(metric, out var v) && double.IsFinite(v.GetDouble())), $"{arm}: {metric} missing");
            Assert.True(File.Exists(Path.Combine(run, $"samples/{arm}/seed-1/grid.png")), $"{arm}: no sample grid");
            Assert.True(File.Exists(Path.Combine(run, $"samples/{arm}/seed-1/samples.npz")), $"{arm}: no ADM archive");
        }
        var report = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("'iar'", report);
        Assert.Contains("'random'", report);
        Assert.Contains("Cluster health of each rearranged arm", report);
        Assert.Matches(@"\| iar \| seed-1 \| \d+ of 16 \| \d+ / [\d.]+ / \d+ \|", report);
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
        Assert.Contains("feature_extractor.json", string.Join(" ", Directory.GetFiles(Path.Combine(run, "evaluation"))));
    }

    [Fact]
    public void A_pretrained_generator_with_an_undeclared_vocabulary_tensor_is_refused_before_it_is_rearranged()
    {
        using var experiment = new TinyExperiment(steps: 5, extra: Ablation);
        var pretrained = experiment.Run("pretrained");
        var r = CliRunner.Run([.. experiment.Arguments(pretrained), "--arms", "baseline"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var checkpoint = Path.Combine(pretrained, "arms/baseline/seed-1/generator.safetensors");

        // Refused by the preflight, before any data is prepared (no run folder), and by iar validate with the same words;
        // the preflight builds the generator for 2 classes, so the table has 3 rows (2 + the null class).
        string[] forgetful = [$"generator.checkpoint={checkpoint}", "generator.options.declare_vocabulary=false"];
        const string Refusal = "cannot be rearranged for iar: FixturePlugin/tiny does not declare logits [3, 64, 16] among its VocabularyParameters";
        var refusedRun = experiment.Run("refused");
        var refused = CliRunner.Run([.. experiment.Arguments(refusedRun), .. forgetful, "--arms", "iar"]);
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains(Refusal, refused.Error);
        Assert.False(Directory.Exists(refusedRun), "the refused run prepared data in its run folder");
        var validate = CliRunner.Run(["validate", experiment.File, .. forgetful, "--plugins", experiment.Plugins]);
        Assert.True(validate.ExitCode == 2, validate.ToString());
        Assert.Contains(Refusal, validate.Error);
        Assert.Contains("generator.checkpoint", validate.Error);

        var declared = CliRunner.Run([.. experiment.Arguments(experiment.Run("declared")), $"generator.checkpoint={checkpoint}", "--arms", "iar"]);
        Assert.True(declared.ExitCode == 0, declared.ToString());
    }

    [Fact]
    public void A_cluster_size_that_does_not_divide_the_vocabulary_is_refused_before_anything_trains()
    {
        using var experiment = new TinyExperiment(steps: 5, extra: Ablation.Replace("enabled: true, lambda: 1", "enabled: true, cluster_size: 5"));
        var run = experiment.Run("run");
        var r = CliRunner.Run(experiment.Arguments(run));
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("arms.1.iar.cluster_size = 5 does not divide the 16 codes", r.Error);
        Assert.Contains("2, 4, 8, 16", r.Error);
        Assert.False(File.Exists(Path.Combine(run, "tokenizer.safetensors")), "the tokenizer was trained before the error");
    }

    [Fact]
    public void Arms_can_be_run_a_part_at_a_time_into_one_run_directory()
    {
        using var experiment = new TinyExperiment(steps: 10, extra: Ablation, evaluation: "{metrics: [token-metrics], every: 5}");
        var run = experiment.Run("run");
        var first = CliRunner.Run([.. experiment.Arguments(run), "--arms", "baseline"]);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(Directory.Exists(Path.Combine(run, "arms/baseline/seed-1")));
        Assert.False(Directory.Exists(Path.Combine(run, "arms/iar")), "an arm that was not selected was trained");

        var second = CliRunner.Run([.. experiment.Arguments(run), "--arms", "iar,random"]);
        Assert.True(second.ExitCode == 0, second.ToString());
        var evaluated = MetricsLog.ReadRun(run)
            .Where(x => x.GetProperty("stage").GetString() == "eval").Select(x => x.GetProperty("arm").GetString()).Distinct().Order();
        Assert.Equal(["baseline", "iar", "random"], evaluated);
        Assert.Contains("| random |", File.ReadAllText(Path.Combine(run, "report.md")));

        var unknown = CliRunner.Run([.. experiment.Arguments(run), "--arms", "iar,nope"]);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--arms names 'nope'", unknown.Error);
        Assert.Contains("its arms are baseline, iar, random", unknown.Error);
    }

    [Fact]
    public void Overrides_after_the_arms_option_stay_overrides()
    {
        using var experiment = new TinyExperiment(steps: 10, extra: Ablation);
        var run = experiment.Run("run");
        var r = CliRunner.Run([.. experiment.Arguments(run), "--arms", "iar", "training.stepz=3"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("training.stepz", r.Error);
        Assert.DoesNotContain("--arms names", r.Error);

        var repeated = CliRunner.Run([.. experiment.Arguments(run), "--arms", "iar", "--arms", "nope,random"]);
        Assert.Equal(2, repeated.ExitCode);
        Assert.Contains("--arms names 'nope',", repeated.Error);
        Assert.False(File.Exists(Path.Combine(run, "tokenizer.safetensors")), "something was trained before the error");
    }

    [Theory]
    [InlineData("iar: {enabled: true, clusterz: 4}", "unknown key 'iar.clusterz'", "cluster_size")]
    [InlineData("generator: {plugin: FixturePlugin, preset: tiny, options: {nope: 1}}", "arms.1.generator.options.nope", "accepted")]
    public void An_arm_naming_an_unknown_option_is_refused_before_anything_trains(string armSection, string what, string accepted)
    {
        using var experiment = new TinyExperiment(steps: 5, extra: $$"""
            iar: {cluster_size: 4}
            arms:
              - name: baseline
              - name: broken
                {{armSection}}
            """);
        var run = experiment.Run("run");
        var r = CliRunner.Run(experiment.Arguments(run));
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Matches(@"exp\.yaml:\d+:\d+: ", r.Error);
        Assert.Contains(what, r.Error);
        Assert.Contains(accepted, r.Error);   // and says what is accepted
        Assert.False(File.Exists(Path.Combine(run, "tokenizer.safetensors")), "the tokenizer was trained before the error");
    }
}
