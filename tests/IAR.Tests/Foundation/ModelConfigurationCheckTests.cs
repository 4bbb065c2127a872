using IAR.Tests.Support;

namespace IAR.Tests.Foundation;

/// <summary>
/// <c>iar validate</c> builds every arm's model configuration (on the meta device, no weights), so an option the model
/// cannot be built with is reported with its key and line before anything trains.
/// </summary>
public class ModelConfigurationCheckTests
{
    const string Experiment = """
        name: heads
        data: {image_size: 16, channels: 1}
        tokenizer: {plugin: LlamaGen, preset: VQ-T}
        generator: {plugin: LlamaGen, preset: GPT-T}
        evaluation: {metrics: [token-metrics]}
        arms:
          - name: baseline
          - name: odd-heads
            generator: {plugin: LlamaGen, preset: GPT-T, options: {n_head: 3}}
        """;

    [Fact]
    public void A_head_count_that_does_not_divide_dim_is_reported_by_validate_with_the_arms_key()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("validate", dir.Write("heads.yaml", Experiment));
        Assert.Equal(2, r.ExitCode);
        var error = Assert.Single(r.Error.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("n_head = 3", error);
        Assert.Contains("divide dim = 64", error);
        Assert.Contains("heads.yaml:9:", error);   // the arm's options line
    }

    [Fact]
    public void Buildable_options_pass_and_leave_the_default_device_alone()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("validate", dir.Write("ok.yaml", Experiment.Replace("n_head: 3", "n_head: 2")));
        Assert.True(r.ExitCode == 0, r.ToString());
        using var t = TorchSharp.torch.zeros(1);
        Assert.Equal(TorchSharp.DeviceType.CPU, t.device_type);
    }

    [Fact]
    public void Dropping_labels_for_a_generator_without_a_null_class_is_refused_before_training()
    {
        using var dir = new TempDir();
        var noNullClass = Experiment.Replace("options: {n_head: 3}", "options: {class_dropout_prob: 0}");
        var r = CliRunner.Run("validate", dir.Write("null.yaml", noNullClass));
        Assert.Equal(2, r.ExitCode);
        var error = Assert.Single(r.Error.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("training.label_drop = 0.1", error);
        Assert.Contains("no null class", error);
        var ok = CliRunner.Run("validate", dir.Write("ok.yaml", noNullClass.Replace("evaluation:", "training: {label_drop: 0}\nevaluation:")));
        Assert.True(ok.ExitCode == 0, ok.ToString());
    }
}
