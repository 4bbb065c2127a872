using IAR.Host.Runs;
using System.Text.Json;
using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using IAR.Host.Training;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>The generator's objective as the spec builds it: its terms, their weights and the total it back-propagates.</summary>
public class GeneratorLossTests
{
    static Tensor Logits(torch.Generator g) => torch.randn([2, 5, 24], generator: g) * 3;   // [B, L, V]

    [Fact]
    public void An_iar_arm_trains_on_token_ce_plus_lambda_cluster_ce_plus_the_named_extra_terms()
    {
        using var scope = torch.NewDisposeScope();
        var spec = new ExperimentSpec
        {
            Training = new TrainingSpec { Loss = new Dictionary<string, double> { ["z_loss"] = 0.25 } },
            Iar = new IarSpec { Enabled = true, Lambda = 0.5 },
        };
        var layout = ClusterLayout.Uniform(24, 6);
        var loss = GeneratorLoss.For(spec, layout, LossTermCatalog.BuiltIn);
        Assert.Equal(["token_ce", "cluster_ce", "z_loss"], loss.Terms.Select(t => t.Term.Name));
        Assert.Equal([1.0, 0.5, 0.25], loss.Terms.Select(t => t.Weight));
        Assert.Equal("token_ce + 0.5·cluster_ce + 0.25·z_loss", loss.ToString());

        using var g = new torch.Generator(3);
        var logits = Logits(g);
        var targets = torch.randint(0, 24, [2, 5], generator: g, dtype: ScalarType.Int64);
        var (total, terms) = loss.Compute(logits, targets);

        // The definitions, written out: CE over tokens, CE over clusters (logsumexp of blocks of 6, target / 6), z².
        var token = nn.functional.cross_entropy(logits.reshape(-1, 24), targets.reshape(-1));
        var cluster = nn.functional.cross_entropy(logits.reshape(-1, 4, 6).logsumexp(-1), targets.reshape(-1).div(6, rounding_mode: RoundingMode.floor));
        var z = logits.logsumexp(-1).square().mean();
        TensorAssert.Close(token, terms[0], 1e-6, 1e-6, "token_ce");
        TensorAssert.Close(cluster, terms[1], 1e-6, 1e-6, "cluster_ce");
        TensorAssert.Close(z, terms[2], 1e-6, 1e-6, "z_loss");
        TensorAssert.Close(token + 0.5 * cluster + 0.25 * z, total, 1e-6, 1e-6, "the total");
    }

    [Fact]
    public void A_baseline_has_no_cluster_term_and_an_unknown_extra_term_is_refused_with_the_accepted_names()
    {
        var baseline = GeneratorLoss.For(new ExperimentSpec(), clusters: null, LossTermCatalog.BuiltIn);
        Assert.Equal(["token_ce"], baseline.Terms.Select(t => t.Term.Name));

        var spec = new ExperimentSpec { Training = new TrainingSpec { Loss = new Dictionary<string, double> { ["z_los"] = 1 } } };
        var e = Assert.Throws<ConfigurationException>(() => GeneratorLoss.For(spec, null, LossTermCatalog.BuiltIn));
        Assert.Contains("'z_los'", e.Message);
        Assert.Contains("z_loss", e.Message);
        Assert.Throws<ArgumentException>(() => new GeneratorLoss([new(new ZLoss(), -1)]));
        Assert.Throws<ArgumentException>(() => new GeneratorLoss([new(new ZLoss(), 1), new(new ZLoss(), 2)]));
    }

    [Fact]
    public void A_plugin_term_named_in_the_yaml_is_trained_and_logged_in_its_arm_only()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: """
            arms:
              - name: baseline
              - name: extra
                training: {loss: {squared_mean_logit: 0.5}}
            """);
        var run = experiment.Run("run");
        var result = CliRunner.Run(experiment.Arguments(run));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("loss token_ce + 0.5·squared_mean_logit", result.Output);
        var records = MetricsLog.ReadRun(run);
        bool Has(string arm) => records.Any(r => r.GetProperty("stage").GetString() == "generator" && r.GetProperty("arm").GetString() == arm &&
                                                 r.TryGetProperty("loss/squared_mean_logit", out var v) && v.ValueKind == JsonValueKind.Number);
        Assert.True(Has("extra"));
        Assert.False(Has("baseline"));
    }

    [Fact]
    public void An_unknown_term_in_the_yaml_is_a_located_configuration_error_before_anything_is_written()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: "arms: [{name: a}, {name: b, training: {loss: {nope: 1}}}]");
        var run = experiment.Run("run");
        var result = CliRunner.Run(experiment.Arguments(run));
        Assert.Equal(2, result.ExitCode);
        Assert.Matches(@"exp\.yaml:\d+:\d+: training\.loss names 'nope'", result.Error);   // located at arms.1.training.loss.nope
        Assert.Contains("squared_mean_logit", result.ToString());
        Assert.False(Directory.Exists(run) && Directory.EnumerateFileSystemEntries(run).Any(), "nothing is written");
    }
}
