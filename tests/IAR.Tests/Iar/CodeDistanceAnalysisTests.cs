using System.Globalization;
using IAR.ContractTests;
using IAR.Host.Analysis;
using IAR.Tests.Support;
using IAR.Tests.Training;
using IAR.Tests.VAR;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary><c>iar analyze codebook</c> and <see cref="CodeDistanceAnalysis"/> (the paper's Figure 2) on tiny tokenizers.</summary>
public class CodeDistanceAnalysisTests
{
    static void AssertRanksAndDistances(IReadOnlyList<CodeDistanceRow> rows, int[] nearestRanks, int[] inClusterRanks)
    {
        var nearest = rows.Where(r => r.Replacement == Replacement.Nearest).ToArray();
        Assert.Equal(nearestRanks, nearest.Select(r => r.Rank));
        Assert.Equal(inClusterRanks, rows.Where(r => r.Replacement == Replacement.NearestInCluster).Select(r => r.Rank));
        Assert.Single(rows, r => r.Replacement == Replacement.RandomInCluster);
        Assert.Single(rows, r => r.Replacement == Replacement.Random);
        // Every code's k-th nearest is no nearer than its (k−1)-th, so the mean over the tokens rises with k.
        for (int i = 1; i < nearest.Length; i++) Assert.True(nearest[i].CodeDistance >= nearest[i - 1].CodeDistance, $"rank {nearest[i].Rank}");
        var inCluster = rows.First(r => r.Replacement == Replacement.NearestInCluster);
        Assert.True(inCluster.CodeDistance >= nearest[0].CodeDistance, "the nearest code of a cluster is no nearer than the nearest of all");
        Assert.All(rows, r => Assert.True(double.IsFinite(r.Psnr) && r.Mse > 0 && r.CodeDistance > 0, $"{r}"));
    }

    [Fact]
    public void A_VAR_tokenizer_has_every_scale_replaced_and_the_rows_are_seeded()
    {
        var tokenizer = VarTestModels.Tokenizer(seed: 2);
        tokenizer.Module.eval();
        int v = tokenizer.Info.VocabularySize;
        var clusters = Enumerable.Range(0, v).Select(c => c / 8).ToArray();                     // blocks of 8
        var images = ContractSeeds.Images(6, tokenizer.Info.Image);
        var rows = CodeDistanceAnalysis.Run(tokenizer, images, clusters, CodeDistanceAnalysis.DefaultRanks(v), seed: 5, batchSize: 4);
        var expected = Enumerable.Range(0, 30).Select(i => 1 << i).TakeWhile(k => k < v).Append(v - 1).Distinct().ToArray();
        AssertRanksAndDistances(rows, expected, [1, 2, 4, 7]);
        Assert.Equal(CodeDistanceReport.Csv(rows), CodeDistanceReport.Csv(CodeDistanceAnalysis.Run(tokenizer, images, clusters, CodeDistanceAnalysis.DefaultRanks(v), seed: 5)));
        Assert.NotEqual(rows.Single(r => r.Replacement == Replacement.Random),
            CodeDistanceAnalysis.Run(tokenizer, images, clusters, [1], seed: 6).Single(r => r.Replacement == Replacement.Random));
    }

    [Fact]
    public void The_sampled_token_probe_counts_wrong_draws_in_the_target_cluster()
    {
        var clusters = torch.tensor(new long[] { 0, 0, 0, 0, 1, 1, 1, 1 });
        var logits = torch.zeros(1, 4, 8);                                                        // [B, L, V]
        logits[0, 0, 1] = 60;                                                                     // target 0: wrong, same cluster
        logits[0, 1, 5] = 60;                                                                     // target 0: wrong, other cluster
        logits[0, 2, 6] = 60;                                                                     // target 7: wrong, same cluster
        logits[0, 3, 3] = 60;                                                                     // target 3: right
        var targets = torch.tensor(new long[] { 0, 0, 7, 3 }).view(1, 4);
        var probe = new SampledTokenProbe(clusters, temperature: 1.0, seed: 1);
        probe.Add(logits, targets);
        var r = probe.Results();
        Assert.Equal(0.25, r["sampled_token_accuracy"], 12);
        Assert.Equal(2.0 / 3, r["sampled_wrong_right_cluster"], 12);
        Assert.Equal(2.0 / 3, r["wrong_top1_right_cluster"], 12);
        Assert.Equal(2 * 4 * 3 / (8.0 * 7), r["wrong_right_cluster_chance"], 12);
        // A flat distribution: the draws spread, and about (m − 1)/(V − 1) of the wrong ones share the cluster.
        var flat = new SampledTokenProbe(clusters, temperature: 1.0, seed: 2);
        flat.Add(torch.zeros(50, 64, 8), torch.zeros([50, 64], ScalarType.Int64));
        Assert.InRange(flat.Results()["sampled_wrong_right_cluster"], 3.0 / 7 - 0.05, 3.0 / 7 + 0.05);
        Assert.InRange(flat.Results()["sampled_token_accuracy"], 1.0 / 8 - 0.03, 1.0 / 8 + 0.03);
    }

    [Fact]
    public void Analyze_codebook_on_a_run_writes_table_csv_and_plot_and_probes_an_arm()
    {
        using var experiment = new TinyExperiment(steps: 20, extra: """
            iar: {cluster_size: 4}
            arms:
              - name: baseline
              - name: iar
                iar: {enabled: true}
            """);
        var run = experiment.Run("run");
        var finished = CliRunner.Run(experiment.Arguments(run));
        Assert.True(finished.ExitCode == 0, finished.ToString());
        var output = experiment.Dir.File("analysis");
        var r = CliRunner.Run("analyze", "codebook", "--run", run, "--plugins", experiment.Plugins, "--images", "12", "--arm", "iar", "-o", output);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("live codes", r.Output);                                                 // clusters from the run's token cache
        var lines = File.ReadAllLines(Path.Combine(output, CodeDistanceReport.CsvFile));
        Assert.Equal("replacement,rank,code_distance,mse,psnr_db", lines[0]);
        var rows = lines[1..].Select(l => l.Split(',')).Select(f => new CodeDistanceRow(
            Enum.GetValues<Replacement>().Single(x => CodeDistanceReport.Name(x) == f[0]), int.Parse(f[1], CultureInfo.InvariantCulture),
            double.Parse(f[2], CultureInfo.InvariantCulture), double.Parse(f[3], CultureInfo.InvariantCulture), double.Parse(f[4], CultureInfo.InvariantCulture))).ToArray();
        AssertRanksAndDistances(rows, [1, 2, 4, 8, 15], [1, 2, 3]);                             // V = 16, m = 4
        Assert.Contains("| random |", File.ReadAllText(Path.Combine(output, CodeDistanceReport.MarkdownFile)));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(output, CodeDistanceReport.PlotFile))[..4]);
        var probe = File.ReadAllText(Path.Combine(output, "sampled-token-probe.md"));
        Assert.Contains("the arm's own clusters", probe);
        Assert.Contains("| sampled_wrong_right_cluster |", probe);
        Assert.Contains("| wrong_right_cluster_chance | 0.2000 |", probe);                      // (m − 1)/(V − 1) = 3/15

        var missing = CliRunner.Run("analyze", "codebook", "--run", experiment.Dir.File("nope"), "--plugins", experiment.Plugins);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("is not a run folder", missing.Error);
    }
}
