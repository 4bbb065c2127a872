using IAR.Host.Configuration;
using IAR.Host.Experiments;
using IAR.Tests.Support;

namespace IAR.Tests.Foundation;

public class ExperimentLoaderTests
{
    const string Minimal = """
        name: tiny
        seed: 3
        tokenizer:
          plugin: FixturePlugin
          preset: tiny
        generator:
          plugin: FixturePlugin
          preset: tiny
        training:
          steps: 20
        """;

    static Experiment Parse(string yaml, params string[] overrides) =>
        ExperimentLoader.Parse(yaml, "/exp/test.yaml", overrides);

    static IReadOnlyList<ConfigError> Errors(string yaml, params string[] overrides) =>
        Assert.Throws<ConfigValidationException>(() => Parse(yaml, overrides)).Errors;

    [Fact]
    public void A_minimal_experiment_binds_with_defaults()
    {
        var e = Parse(Minimal);
        Assert.Equal("tiny", e.Spec.Name);
        Assert.Equal(3, e.Spec.Seed);
        Assert.Equal(20, e.Spec.Training.Steps);
        Assert.Equal(64, e.Spec.Training.BatchSize);
        Assert.Equal(new[] { 3 }, e.Spec.EffectiveSeeds);
        var arm = Assert.Single(e.Arms);
        Assert.Equal("baseline", arm.Name);
    }

    [Fact]
    public void Unknown_keys_and_wrong_types_are_all_reported_with_line_and_column()
    {
        var errors = Errors("""
            name: tiny
            tokenizer:
              plugin: FixturePlugin
              preset: tiny
              colour: red
            generator:
              plugin: FixturePlugin
              preset: tiny
            training:
              steps: many
              lr: -1
            iar:
              clustering: spectral
            """);
        Assert.Contains(errors, e => e.Line == 5 && e.Column == 3 && e.Message.Contains("unknown key 'tokenizer.colour'") && e.Message.Contains("accepted"));
        Assert.Contains(errors, e => e.Line == 10 && e.Column == 10 && e.Message.Contains("'training.steps' = 'many'") && e.Message.Contains("integer"));
        Assert.Contains(errors, e => e.Line == 13 && e.Message.Contains("balanced-kmeans | random | kmeans | none"));
        Assert.All(errors, e => Assert.Equal("/exp/test.yaml", e.Source));
        Assert.Equal(3, errors.Count);   // lr is not judged while its section has a type error
    }

    [Fact]
    public void Invalid_values_are_reported_with_what_is_accepted()
    {
        var errors = Errors(Minimal + "\n  lr: -1\nsampling:\n  top_p: 1.5\n");
        Assert.Contains(errors, e => e.Message.Contains("lr = -1 is invalid") && e.Line == 11);
        Assert.Contains(errors, e => e.Message.Contains("top_p = 1.5") && e.Message.Contains("(0, 1]"));
    }

    [Fact]
    public void Training_precision_is_auto_by_default_bf16_for_the_generator_and_refused_for_the_tokenizer()
    {
        Assert.Equal(PrecisionSetting.Auto, Parse(Minimal).Spec.Training.Precision);
        Assert.Equal(PrecisionSetting.Bf16, Parse(Minimal, "training.precision=bf16").Spec.Training.Precision);
        Assert.Equal(PrecisionSetting.Fp32, Parse(Minimal, "training.precision=fp32").Spec.Training.Precision);
        Assert.Contains(Errors(Minimal, "training.precision=fp16"), e => e.Message.Contains("auto | fp32 | bf16"));
        Assert.Equal(PrecisionSetting.Fp32, Parse(Minimal, "tokenizer.training.precision=fp32").Spec.Tokenizer.Training.Precision);
        var tokenizer = Assert.Single(Errors(Minimal, "tokenizer.training.precision=bf16"));
        Assert.Contains("tokenizer: training.precision = bf16 is invalid for the tokenizer; fp32 or auto (which is fp32 for the tokenizer) is accepted", tokenizer.Message);
    }

    [Fact]
    public void Missing_required_keys_are_named()
    {
        var errors = Errors("name: x\ntokenizer:\n  plugin: A\n");
        Assert.Contains(errors, e => e.Message.Contains("missing key 'tokenizer.preset'"));
        Assert.Contains(errors, e => e.Message.Contains("missing key 'generator'"));
    }

    [Fact]
    public void A_yaml_syntax_error_is_located()
    {
        var error = Assert.Single(Errors("name: x\ntokenizer: [unclosed\n"));
        Assert.True(error.Line >= 2, error.ToString());
        Assert.Contains("YAML syntax error", error.Message);
    }

    [Fact]
    public void Overrides_set_values_create_sections_and_delete_keys()
    {
        var e = Parse(Minimal, "training.steps=7", "sampling.top_k=5", "iar.enabled=true", "~seed", "tokenizer.options.levels=8");
        Assert.Equal(7, e.Spec.Training.Steps);
        Assert.Equal(5, e.Spec.Sampling.TopK);
        Assert.True(e.Spec.Iar.Enabled);
        Assert.Equal(0, e.Spec.Seed);
        Assert.Equal("8", e.Spec.Tokenizer.Options["levels"]);
        Assert.Equal("iar", Assert.Single(e.Arms).Name);
    }

    [Fact]
    public void Overrides_of_unknown_keys_are_rejected_with_the_accepted_keys()
    {
        var errors = Errors(Minimal, "training.stepz=7", "~sampling.top_k", "nonsense");
        Assert.Contains(errors, e => e.Source == "override 'training.stepz=7'" && e.Message.Contains("steps, batch_size"));
        Assert.Contains(errors, e => e.Source == "override '~sampling.top_k'" && e.Message.Contains("not set"));
        Assert.Contains(errors, e => e.Source == "override 'nonsense'");
    }

    [Fact]
    public void A_wrong_override_value_is_reported_against_the_override()
    {
        var error = Assert.Single(Errors(Minimal, "training.steps=lots"));
        Assert.Equal("override 'training.steps=lots'", error.Source);
        Assert.Contains("integer", error.Message);
    }

    const string WithArms = Minimal + """

        arms:
          - name: baseline
          - name: iar-m4
            iar: {enabled: true, cluster_size: 4, lambda: 0.5}
            training: {lr: 0.01}
        """;

    [Fact]
    public void Arms_overlay_the_base_spec()
    {
        var e = Parse(WithArms);
        Assert.Equal(new[] { "baseline", "iar-m4" }, e.Arms.Select(a => a.Name));
        Assert.False(e.Arms[0].Spec.Iar.Enabled);
        Assert.True(e.Arms[1].Spec.Iar.Enabled);
        Assert.Equal(4, e.Arms[1].Spec.Iar.ClusterSize);
        Assert.Equal(0.01, e.Arms[1].Spec.Training.Lr);
        Assert.Equal(20, e.Arms[1].Spec.Training.Steps);   // the rest of the section comes from the base
    }

    [Fact]
    public void Arms_can_be_overridden_by_name_or_index_and_may_not_change_shared_sections()
    {
        var e = Parse(WithArms, "arms.iar-m4.iar.lambda=2", "arms.0.training.steps=3");
        Assert.Equal(2.0, e.Arms[1].Spec.Iar.Lambda);
        Assert.Equal(3, e.Arms[0].Spec.Training.Steps);
        var errors = Errors(WithArms + "\n    data: {image_size: 16}\n");
        Assert.Contains(errors, x => x.Message.Contains("arms[1].data cannot differ between arms"));
        Assert.Contains(Errors(WithArms, "arms.1.data.flip=true"), x => x.Message.Contains("'data' cannot differ between arms"));
    }

    [Fact]
    public void Arm_errors_point_into_the_arm()
    {
        var errors = Errors(WithArms.Replace("lambda: 0.5", "lambda: -0.5"));
        var error = Assert.Single(errors);
        Assert.Contains("lambda = -0.5", error.Message);
        Assert.Equal(14, error.Line);
    }

    [Fact]
    public void Duplicate_arm_names_are_rejected()
    {
        var errors = Errors(Minimal + "\narms:\n  - name: a\n  - name: a\n");
        Assert.Contains(errors, e => e.Message.Contains("'a' is used by another arm"));
    }

    [Fact]
    public void The_resolved_config_round_trips_to_the_same_experiment()
    {
        using var dir = new TempDir();
        var e = Parse(WithArms, "tokenizer.checkpoint=weights/tok.safetensors");
        Assert.True(Path.IsPathRooted(e.Spec.Tokenizer.Checkpoint));
        var path = dir.Write("config.yaml", e.ResolvedYaml);
        var again = ExperimentLoader.Load(path);
        Assert.Equal(e.ResolvedYaml, again.ResolvedYaml);
        Assert.Equal(e.Spec.Training, again.Spec.Training);
        Assert.Equal(e.Arms.Select(a => a.Spec.Iar), again.Arms.Select(a => a.Spec.Iar));
    }

    [Fact]
    public void Relative_paths_resolve_against_the_yaml_folder_and_override_paths_against_the_working_directory()
    {
        var fromFile = Parse(Minimal + "\nplugins: ../plugins\n");
        Assert.Equal("/plugins", fromFile.Spec.Plugins);
        var fromOverride = Parse(Minimal, "plugins=my/plugins");
        Assert.Equal(Path.GetFullPath("my/plugins"), fromOverride.Spec.Plugins);
    }
}
