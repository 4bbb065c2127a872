using IAR.Host.Configuration;
using IAR.Host.Experiments;
using IAR.Tests.Support;

namespace IAR.Tests.Foundation;

/// <summary><c>sweep:</c> and <c>--sweep</c>: arms expanded from lists of values (host/Experiments/ArmSweep.cs).</summary>
public class ArmSweepTests
{
    const string Minimal = """
        name: tiny
        tokenizer: {plugin: FixturePlugin, preset: tiny}
        generator: {plugin: FixturePlugin, preset: tiny}
        training: {steps: 20, lr: 0.01}
        iar: {cluster_size: 4}
        """;

    static Experiment Parse(string yaml, CommandLineSweep? sweep = null, params string[] overrides) =>
        ExperimentLoader.Parse(yaml, "/exp/test.yaml", overrides, sweep);

    static IReadOnlyList<ConfigError> Errors(string yaml, CommandLineSweep? sweep = null) =>
        Assert.Throws<ConfigValidationException>(() => Parse(yaml, sweep)).Errors;

    static string[] Names(Experiment e) => e.Arms.Select(a => a.Name).ToArray();

    [Fact]
    public void A_grid_gives_every_combination_named_by_its_values_the_first_key_slowest()
    {
        var e = Parse(Minimal + """

            sweep:
              grid:
                iar.lambda: [0.5, 2]
                training.lr: [0.001, 0.0003]
            """);
        Assert.Equal(["lambda-0.5_lr-0.001", "lambda-0.5_lr-0.0003", "lambda-2_lr-0.001", "lambda-2_lr-0.0003"], Names(e));
        Assert.Equal([0.5, 0.5, 2, 2], e.Arms.Select(a => a.Spec.Iar.Lambda));
        Assert.Equal([0.001, 0.0003, 0.001, 0.0003], e.Arms.Select(a => a.Spec.Training.Lr));
        Assert.All(e.Arms, a => Assert.Equal(20, a.Spec.Training.Steps));   // the rest comes from the base
        Assert.Equal(["iar.lambda=2", "training.lr=0.0003"], e.Arms[3].Settings.Select(s => s.ToString()));
    }

    [Fact]
    public void Zipped_lists_go_together_and_must_be_equally_long()
    {
        var e = Parse(Minimal + "\nsweep:\n  zip:\n    iar.cluster_size: [2, 8]\n    training.steps: [10, 30]\n");
        Assert.Equal(["cluster_size-2_steps-10", "cluster_size-8_steps-30"], Names(e));
        Assert.Equal([10, 30], e.Arms.Select(a => a.Spec.Training.Steps));

        var error = Assert.Single(Errors(Minimal + "\nsweep:\n  zip:\n    iar.cluster_size: [2, 8]\n    training.steps: [10, 20, 30]\n"));
        Assert.Equal(8, error.Line);
        Assert.Contains("equally long", error.Message);
        Assert.Contains("iar.cluster_size: 2, training.steps: 3", error.Message);
    }

    [Fact]
    public void A_grid_and_a_zip_together_give_the_grid_times_the_zipped_rows()
    {
        var e = Parse(Minimal + "\nsweep:\n  grid: {iar.lambda: [1, 2]}\n  zip: {training.steps: [10, 30], training.lr: [0.1, 0.2]}\n");
        Assert.Equal(["lambda-1_steps-10_lr-0.1", "lambda-1_steps-30_lr-0.2", "lambda-2_steps-10_lr-0.1", "lambda-2_steps-30_lr-0.2"], Names(e));
    }

    [Fact]
    public void An_unknown_swept_key_is_one_error_at_its_line_naming_the_key()
    {
        var error = Assert.Single(Errors(Minimal + "\nsweep:\n  grid:\n    iar.lambda: [1, 2]\n    training.stepz: [1, 2]\n"));
        Assert.Equal(("/exp/test.yaml", 9, 5), (error.Source, error.Line, error.Column));
        Assert.Contains("'training.stepz'", error.Message);
        Assert.Contains("steps, batch_size", error.Message);
        var shared = Assert.Single(Errors(Minimal + "\nsweep:\n  grid:\n    data.image_size: [16, 32]\n"));
        Assert.Equal(8, shared.Line);
        Assert.Contains("'data' cannot differ between arms", shared.Message);
    }

    [Fact]
    public void A_swept_tokenizer_key_says_to_run_once_per_value()
    {
        var error = Assert.Single(Errors(Minimal + "\nsweep:\n  grid:\n    tokenizer.options.codebook_size: [1024, 4096]\n"));
        Assert.Equal(8, error.Line);
        Assert.Contains("'tokenizer' cannot differ between arms: data and tokenizer are prepared once per run", error.Message);
        Assert.Contains("run the experiment once per value instead", error.Message);
        Assert.Contains("'tokenizer.options.codebook_size=…' --run-dir", error.Message);
    }

    [Fact]
    public void A_wrong_value_gets_the_binders_error_at_the_values_line_once()
    {
        var error = Assert.Single(Errors(Minimal + "\nsweep:\n  grid:\n    iar.lambda: [1, 2]\n    training.steps: [10, many]\n"));
        Assert.Equal((9, 26), (error.Line, error.Column));
        Assert.Contains("'training.steps' = 'many' is invalid; an integer is accepted", error.Message);
    }

    const string TwoArms = Minimal + """

        arms:
          - name: baseline
          - name: iar
            iar: {enabled: true, lambda: 1}
        """;

    [Fact]
    public void Each_explicit_arm_is_swept_unless_sweep_arms_names_others_and_the_sweep_value_wins()
    {
        var all = Parse(TwoArms + "\nsweep: {grid: {iar.lambda: [0.5, 2]}}\n");
        Assert.Equal(["baseline_lambda-0.5", "baseline_lambda-2", "iar_lambda-0.5", "iar_lambda-2"], Names(all));
        Assert.Equal([false, false, true, true], all.Arms.Select(a => a.Spec.Iar.Enabled));
        Assert.Equal([0.5, 2, 0.5, 2], all.Arms.Select(a => a.Spec.Iar.Lambda));

        var some = Parse(TwoArms + "\nsweep: {grid: {iar.lambda: [0.5, 2]}, arms: [iar]}\n");
        Assert.Equal(["baseline", "iar_lambda-0.5", "iar_lambda-2"], Names(some));
        Assert.Contains("no arm under arms:", Assert.Single(Errors(TwoArms + "\nsweep: {grid: {iar.lambda: [1]}, arms: [iar, other]}\n")).Message);
    }

    [Fact]
    public void Names_are_unique_and_filesystem_safe()
    {
        // Two swept keys ending in batch_size are named by their whole key.
        var e = Parse(Minimal + "\nsweep: {grid: {training.batch_size: [8, 16], evaluation.batch_size: [4]}}\n");
        Assert.Equal(["training.batch_size-8_evaluation.batch_size-4", "training.batch_size-16_evaluation.batch_size-4"], Names(e));
        // A list value is joined; characters a folder name should not hold become '-'.
        var metrics = Parse(Minimal + "\nsweep: {grid: {evaluation.metrics: [[token-metrics], [fid, token-metrics]], generator.preset: [tiny, 'a/b c']}}\n");
        Assert.Contains("metrics-fid-token-metrics_preset-a-b-c", Names(metrics));
        Assert.All(metrics.Arms, a => Assert.Matches("^[A-Za-z0-9][A-Za-z0-9._-]*$", a.Name));
        // Values that differ only in such characters would name two arms alike.
        var clash = Assert.Single(Errors(Minimal + "\nsweep: {grid: {generator.preset: ['a b', 'a/b']}}\n"));
        Assert.Contains("two arms 'preset-a-b'", clash.Message);
    }

    [Fact]
    public void The_command_line_form_expands_as_the_yaml_form()
    {
        var yaml = Parse(TwoArms + "\nsweep:\n  grid: {iar.lambda: [0.5, 2], training.lr: [0.001, 0.0003]}\n");
        var cli = Parse(TwoArms, new CommandLineSweep(["iar.lambda=0.5,2", "training.lr=[0.001, 0.0003]"], Zip: false));
        Assert.Equal(8, cli.Arms.Count);
        Assert.Equal(yaml.ResolvedYaml, cli.ResolvedYaml);

        var zipYaml = Parse(Minimal + "\nsweep: {zip: {iar.cluster_size: [2, 8], training.steps: [10, 30]}}\n");
        var zipCli = Parse(Minimal, new CommandLineSweep(["iar.cluster_size=2,8", "training.steps=10,30"], Zip: true));
        Assert.Equal(zipYaml.ResolvedYaml, zipCli.ResolvedYaml);

        var error = Assert.Single(Errors(Minimal, new CommandLineSweep(["training.stepz=1,2"], Zip: false)));
        Assert.Equal("override '--sweep training.stepz=1,2'", error.Source);
        Assert.Contains("'training.stepz'", error.Message);
    }

    [Fact]
    public void The_resolved_config_writes_the_arms_out_and_reads_back_to_the_same_arms()
    {
        using var dir = new TempDir();
        var e = Parse(TwoArms + "\nsweep: {grid: {iar.lambda: [0.5, 2]}, arms: [iar]}\n");
        Assert.DoesNotContain("sweep", e.ResolvedYaml);
        var again = ExperimentLoader.Load(dir.Write("config.yaml", e.ResolvedYaml));
        Assert.Equal(Names(e), Names(again));
        Assert.Equal(e.ResolvedYaml, again.ResolvedYaml);
        Assert.Equal(e.Arms.Select(a => a.Spec.Iar), again.Arms.Select(a => a.Spec.Iar));

        // One point is one arm, still under its generated name after reading config.yaml back.
        var one = Parse(Minimal + "\nsweep: {grid: {training.lr: [0.01]}}\n");
        Assert.Equal(["lr-0.01"], Names(ExperimentLoader.Load(dir.Write("one.yaml", one.ResolvedYaml))));
    }

    /// <summary>A grid of three keys with <paramref name="n"/> values each: n³ points.</summary>
    static string Cube(int n) =>
        $"\nsweep:\n  grid:\n    iar.lambda: [{string.Join(", ", Enumerable.Range(1, n))}]\n" +
        $"    training.lr: [{string.Join(", ", Enumerable.Range(1, n).Select(i => i / 1000.0))}]\n" +
        $"    training.steps: [{string.Join(", ", Enumerable.Range(10, n))}]\n";

    [Fact]
    public void More_arms_than_an_experiment_may_have_are_refused_before_the_sweep_expands()
    {
        Assert.Equal(ExperimentLoader.MaxArms, Parse(Minimal + Cube(10)).Arms.Count);   // 1000: the bound itself is accepted

        var error = Assert.Single(Errors(Minimal + Cube(11)));
        Assert.Equal(7, error.Line);   // sweep: (its mapping starts at grid:)
        Assert.StartsWith("the sweep makes 1,331 arms (iar.lambda: 11 × training.lr: 11 × training.steps: 11); an experiment may have at most 1000", error.Message);

        // The explicit arms it multiplies count, and those it leaves as they are: 10³ × 1 + 1 (baseline) = 1001.
        var counted = Assert.Single(Errors(TwoArms + Cube(10) + "  arms: [iar]\n"));
        Assert.StartsWith("the sweep makes 1,001 arms (iar.lambda: 10 × training.lr: 10 × training.steps: 10 + 1 arms)", counted.Message);

        // A product no machine could expand is counted, not built: five keys of 1000 values, 10^15 arms.
        var cli = new CommandLineSweep(["iar.lambda=" + string.Join(",", Enumerable.Range(1, 1000)), "training.lr=" + string.Join(",", Enumerable.Range(1, 1000)),
            "training.steps=" + string.Join(",", Enumerable.Range(1, 1000)), "training.warmup_steps=" + string.Join(",", Enumerable.Range(1, 1000)),
            "training.batch_size=" + string.Join(",", Enumerable.Range(1, 1000))], Zip: false);
        Assert.Contains("the sweep makes more than 10^12 arms", Assert.Single(Errors(Minimal, cli)).Message);
    }

    [Fact]
    public void Many_arms_over_a_long_list_are_refused_by_the_work_of_reading_them()
    {
        // 1000 arms are accepted, and 9,000 seeds are, but each arm is bound over the seeds too: 9 million nodes (4 s).
        var seeds = $"\nseeds: [{string.Join(", ", Enumerable.Range(0, 9000))}]\n";
        Assert.Equal(9000, Parse(Minimal + seeds).Spec.Seeds.Count);
        var error = Assert.Single(Errors(Minimal + seeds + Cube(10)));
        Assert.Equal("/exp/test.yaml", error.Source);
        Assert.StartsWith("the experiment has 1000 arms and 9,0", error.Message);
        Assert.Contains("arms × nodes up to 2,000,000 are accepted; give fewer arms or shorter lists.", error.Message);
    }

    [Fact]
    public void Command_line_yaml_is_bounded_as_a_file_is()
    {
        // The alias that overflowed YamlDotNet's stack in a file (BoundedReadersTests), in an override and a --sweep list.
        var value = Assert.Single(Assert.Throws<ConfigValidationException>(() => Parse(Minimal, null, "iar.lambda={*x : 1, b: &x [1]}")).Errors);
        Assert.Equal("override 'iar.lambda={*x : 1, b: &x [1]}'", value.Source);
        Assert.StartsWith("the value is not read: the alias *x comes before its anchor &x", value.Message);
        var list = Assert.Single(Errors(Minimal, new CommandLineSweep(["iar.lambda=[*x : 1, &x 1]"], Zip: false)));
        Assert.Equal("override '--sweep iar.lambda=[*x : 1, &x 1]'", list.Source);
        Assert.StartsWith("the list is not read: the alias *x comes before its anchor &x", list.Message);
    }

    [Fact]
    public void More_explicit_arms_than_an_experiment_may_have_are_refused()
    {
        var arms = string.Concat(Enumerable.Range(0, ExperimentLoader.MaxArms + 1).Select(i => $"\n  - name: a{i}"));
        var error = Assert.Single(Errors(Minimal + "\narms:" + arms + "\n"));
        Assert.Equal("'arms' lists 1001 arms; an experiment may have at most 1000 (split it into several experiments).", error.Message);
    }
}
