using IAR.Host.Runs;
using IAR.Host.Serialization;
using System.Text.RegularExpressions;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Host.Reporting;
using IAR.Tests.Support;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Reporting;

/// <summary>Reports built from a synthetic run: two arms, two seeds, constructed FID curves.</summary>
public class RunReportTests
{
    internal const string Config = """
        name: synthetic
        description: two arms, two seeds, constructed curves
        seeds: [0, 1]
        tokenizer:
          plugin: FixturePlugin
          preset: tiny
        generator:
          plugin: FixturePlugin
          preset: tiny
        training:
          steps: 400
        arms:
          - name: baseline
          - name: iar
            iar: { enabled: true, cluster_size: 4, lambda: 1.0 }
        """;

    static readonly long[] Steps = [0, 100, 200, 300, 400];

    // IAR reaches every level of the baseline's descent about 1.5–1.9× sooner, and ends 8 lower in both seeds
    static readonly Dictionary<(string Arm, int Seed), double[]> Fid = new()
    {
        [("baseline", 0)] = [100, 60, 40, 30, 20],
        [("baseline", 1)] = [100, 64, 44, 34, 24],
        [("iar", 0)] = [100, 40, 25, 18, 12],
        [("iar", 1)] = [100, 44, 29, 22, 16],
    };

    /// <summary>A run folder with config.yaml, metrics.jsonl (training and evaluation lines) and sample grids.</summary>
    internal static void WriteRun(string dir, Dictionary<(string Arm, int Seed), double[]> fid, bool withConfig = true, string config = Config)
    {
        if (withConfig)
            File.WriteAllText(Path.Combine(dir, RunLayout.ConfigFile), ExperimentLoader.Parse(config, Path.Combine(dir, "synthetic.yaml"), []).ResolvedYaml);
        var log = new MetricsLog(Path.Combine(dir, RunLayout.MetricsFile));
        foreach (var ((arm, seed), curve) in fid)
        {
            for (long step = 10; step <= 400; step += 10)
            {
                var record = new Dictionary<string, object?>
                {
                    ["stage"] = "generator", ["arm"] = arm, ["seed"] = seed, ["step"] = step, ["wall_s"] = step * 0.1, ["lr"] = 1e-3,
                    ["loss/token_ce"] = 5.0 / Math.Sqrt(step) + seed * 0.01,
                };
                record["loss"] = (double)record["loss/token_ce"]!;
                if (arm == "iar")
                {
                    record["loss/cluster_ce"] = 1.0 / Math.Sqrt(step);
                    record["loss"] = (double)record["loss/token_ce"]! + (double)record["loss/cluster_ce"]!;
                }
                log.Append(record);
            }
            for (int i = 0; i < Math.Min(Steps.Length, curve.Length); i++)   // a shorter curve: a job still running
                log.Append(new Dictionary<string, object?>
                {
                    ["stage"] = "eval", ["arm"] = arm, ["seed"] = seed, ["step"] = Steps[i], ["fid"] = curve[i],
                    ["inception_score"] = 2 + i + seed * 0.5, ["class_accuracy"] = 0.1 * i + (arm == "iar" ? 0.05 : 0),
                    ["token_accuracy"] = 0.01 * i, ["cluster_accuracy"] = 0.05 * i,
                });
        }
        foreach (var (arm, seed) in fid.Keys)
        {
            // a recognisable grid per arm: light for baseline, dark for IAR
            using var images = torch.full(8, 1, 8, 8, arm == "iar" ? -0.5f : 0.5f);
            SampleGrid.Write(Path.Combine(dir, RunLayout.GridFile(arm, seed)), images, columns: 4);
        }
        new FeatureExtractorSummary("small CNN (test)", 128, 10, 0.9, 6000, 8.5).Write(Path.Combine(dir, RunLayout.FeatureExtractorSummary));
    }

    [Fact]
    public void Cluster_health_shows_how_much_within_cluster_error_each_clustering_left()
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, Fid);
        // the rearrange step's record, as GeneratorJob writes it beside each IAR job: error of the original blocks, then after
        foreach (var (seed, before, after) in new[] { (0, 100.0, 35.0), (1, 120.0, 48.0) })
        {
            var folder = Directory.CreateDirectory(Path.Combine(dir.Path, RunLayout.ArmsFolder, "iar", $"seed-{seed}")).FullName;
            using var newToOld = torch.arange(16, dtype: ScalarType.Int64);
            SafeTensorsWriter.Write(Path.Combine(folder, RunLayout.PermutationFile), new Dictionary<string, Tensor> { ["new_to_old"] = newToOld },
                new Dictionary<string, string>
                {
                    ["iar.stats.live_codes"] = "16", ["iar.stats.dead_codes"] = "0", ["iar.stats.live_per_cluster_min"] = "4",
                    ["iar.stats.live_per_cluster_median"] = "4", ["iar.stats.live_per_cluster_max"] = "4", ["iar.stats.diluted_clusters"] = "0",
                    ["iar.stats.dead_clusters"] = "0", ["iar.stats.error_before"] = before.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                    ["iar.stats.error_after"] = after.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                });
        }

        var md = File.ReadAllText(RunReport.Build(dir.Path).MarkdownPath);

        Assert.Contains("| iar | seed-0 | 16 of 16 | 4 / 4 / 4 | 0 | 0 | 0.350 |", md);
        Assert.Contains("| iar | seed-1 | 16 of 16 | 4 / 4 / 4 | 0 | 0 | 0.400 |", md);
    }

    [Fact]
    public void The_verdict_and_the_final_table_come_from_the_records()
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, Fid);
        var outcome = RunReport.Build(dir.Path);

        var iar = outcome.Comparisons.Single();
        Assert.Equal("iar", iar.Arm);
        Assert.Equal(14, iar.FinalFid.Mean, 12);
        Assert.Equal(Math.Sqrt(8), iar.FinalFid.StandardDeviation, 12);   // 12 and 16
        Assert.Equal((SpeedAnswer.Faster, EndQualityAnswer.Better), (iar.SpeedAnswer, iar.EndQualityAnswer));
        // seed 0's baseline falls from 100 to 20: levels 100 − 80·k/6; seed 1's from 100 to 24: the first is 100 − 76/6
        Assert.Equal((100 - 76 / 6.0, 100 - 80 * 5 / 6.0, 2), (iar.Speed!.HighestLevel, iar.Speed.LowestLevel, iar.Speed.Seeds));
        Assert.Equal(-8, iar.EndQuality.Difference.Estimate, 12);

        Assert.StartsWith("IAR (arm 'iar'): faster (", outcome.Verdict);
        Assert.Contains("better end quality (final FID Δ -8.00 ± 0.00)", outcome.Verdict);
        var md = File.ReadAllText(outcome.MarkdownPath);
        Assert.Contains($"| iar | {iar.Speed.Ratio.Estimate:F2}× [{iar.Speed.Ratio.Low:F2}, {iar.Speed.Ratio.High:F2}] | 5 from 87.33 to 33.33 | Δ -8.00 ± 0.00 | — | 2 |", md);
        // final table: each seed's last evaluation, mean ± sd over the two seeds
        Assert.Matches(@"\| iar \| 400 \| 14\.00 ± 2\.83 \(n=2\) \| 6\.250 ± 0\.354 \(n=2\) \| 0\.450 ± 0\.000 \(n=2\) \|", md);
        Assert.Matches(@"\| baseline \| 400 \| 22\.00 ± 2\.83 \(n=2\) \|", md);
        Assert.Contains("Inception Score of the real held-out images: 8.50", md);
        Assert.Contains("| iar | on | 1.00 | m = 4 |", md);
        Assert.Contains("Tokenizer: FixturePlugin/tiny, trained in this run (1000 steps, seed 0); data:", md);
    }

    [Fact]
    public void A_job_still_running_is_compared_at_the_last_step_both_arms_evaluated()
    {
        // iar seed 1 has reached step 200 only; its end-quality pair is 29 − 44 at step 200, not 29 − 24 (the
        // baseline's step 400), which would call a job in progress worse
        var running = new Dictionary<(string Arm, int Seed), double[]>(Fid) { [("iar", 1)] = [100, 44, 29] };
        using var dir = new TempDir();
        WriteRun(dir.Path, running);
        var iar = RunReport.Build(dir.Path).Comparisons.Single();
        Assert.Equal(-8, iar.EndQuality.SeedDifferences[0], 12);
        Assert.Equal(-15, iar.EndQuality.SeedDifferences[1], 12);
    }

    [Fact]
    public void A_job_still_running_is_timed_over_the_steps_both_arms_reached()
    {
        // iar seed 1 has reached step 100 only (FID 44). Over steps 0–100 the baseline falls 0.36 a step and iar 0.56,
        // so every level there is reached 56/36 sooner. Over the baseline's whole descent (down to 24) iar's lowest
        // level would count as reached at step 100, where it is not yet: a ratio of 1.83 for a job that has run a quarter.
        var running = new Dictionary<(string Arm, int Seed), double[]>(Fid) { [("iar", 1)] = [100, 44] };
        using var dir = new TempDir();
        WriteRun(dir.Path, running);
        var speed = RunReport.Build(dir.Path).Comparisons.Single().Speed!;
        Assert.Equal(56.0 / 36, speed.SeedRatios[1], 9);
        Assert.Equal(0, speed.LevelsNotReached);
    }

    [Fact]
    public void The_setup_names_the_tokenizer_checkpoint_a_run_loaded()
    {
        using var dir = new TempDir();
        var checkpoint = Path.Combine(dir.Path, "shipped-tokenizer.safetensors");
        WriteRun(dir.Path, Fid, config: Config.Replace("  preset: tiny\ngenerator:", $"  preset: tiny\n  checkpoint: {checkpoint}\ngenerator:"));
        var md = File.ReadAllText(RunReport.Build(dir.Path).MarkdownPath);
        Assert.Contains($"Tokenizer: FixturePlugin/tiny, loaded from {checkpoint}; data:", md);
    }

    [Fact]
    public void The_fid_of_every_evaluated_step_is_tabled_per_arm_over_seeds()
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, Fid);
        var md = File.ReadAllText(RunReport.Build(dir.Path).MarkdownPath);

        Assert.Contains("## FID at each evaluation", md);
        Assert.Contains("| step | baseline FID ↓ | iar FID ↓ |", md);
        // step 100: baseline 60 and 64, IAR 40 and 44 (sd of two values 4 apart: 2√2)
        Assert.Contains("| 0 | 100.00 ± 0.00 (n=2) | 100.00 ± 0.00 (n=2) |", md);
        Assert.Contains("| 100 | 62.00 ± 2.83 (n=2) | 42.00 ± 2.83 (n=2) |", md);
        Assert.Contains("| 400 | 22.00 ± 2.83 (n=2) | 14.00 ± 2.83 (n=2) |", md);
        Assert.Equal(Steps.Length, Regex.Matches(md, @"^\| \d+ \| \d+\.\d\d ± ", RegexOptions.Multiline).Count);
    }

    [Fact]
    public void A_slower_and_worse_arm_is_called_so()
    {
        using var dir = new TempDir();
        var worse = new Dictionary<(string, int), double[]>
        {
            [("baseline", 0)] = [100, 40, 25, 18, 12],
            [("baseline", 1)] = [100, 44, 29, 22, 16],
            [("iar", 0)] = [100, 60, 40, 30, 20],
            [("iar", 1)] = [100, 64, 44, 34, 24],
        };
        WriteRun(dir.Path, worse, withConfig: false);
        var outcome = RunReport.Build(dir.Path);
        var iar = outcome.Comparisons.Single(c => c.Arm == "iar");
        Assert.Equal((SpeedAnswer.Slower, EndQualityAnswer.Worse), (iar.SpeedAnswer, iar.EndQualityAnswer));
        // without config.yaml the baseline is the arm named "baseline" and the other arm is not assumed to be IAR
        Assert.StartsWith("IAR (arm 'iar'): slower (", outcome.Verdict);
        Assert.Contains("worse end quality (final FID Δ +8.00 ± 0.00)", outcome.Verdict);
    }

    /// <summary>
    /// Each seed pair's own speed-up and final-FID difference, the replicates of the verdict's intervals. The baseline falls
    /// linearly (0.2 a step) in every seed; IAR falls 0.4 a step in seed 0 and 0.25 in seed 1 through every level (ratios
    /// 2 and 1.25 exactly) and is the baseline itself in seed 2.
    /// </summary>
    [Fact]
    public void Each_seed_pairs_speed_up_and_difference_is_tabled()
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, new Dictionary<(string, int), double[]>
        {
            [("baseline", 0)] = [100, 80, 60, 40, 20],
            [("baseline", 1)] = [100, 80, 60, 40, 20],
            [("baseline", 2)] = [100, 80, 60, 40, 20],
            [("iar", 0)] = [100, 60, 20, 15, 12],
            [("iar", 1)] = [100, 75, 50, 25, 18],
            [("iar", 2)] = [100, 80, 60, 40, 20],
        }, config: Config.Replace("seeds: [0, 1]", "seeds: [0, 1, 2]"));
        var md = File.ReadAllText(RunReport.Build(dir.Path).MarkdownPath);

        Assert.Contains("'iar' faster in 2 of 3 seeds, lower final FID in 2 of 3.", md);
        Assert.Contains("| arm | seed | speed-up | Δ final FID |", md);
        Assert.Contains("| iar | 0 | 2.00× | -8.00 |", md);
        Assert.Contains("| iar | 1 | 1.25× | -2.00 |", md);
        Assert.Contains("| iar | 2 | 1.00× | 0.00 |", md);
    }

    [Fact]
    public void One_seed_has_no_seed_pair_table()
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, new Dictionary<(string, int), double[]>
        {
            [("baseline", 0)] = [100, 60, 40, 30, 20],
            [("iar", 0)] = [100, 40, 25, 18, 12],
        });
        Assert.DoesNotContain("Each seed pair", File.ReadAllText(RunReport.Build(dir.Path).MarkdownPath));
    }

    [Fact]
    public void Differences_within_the_seed_spread_are_called_unclear()
    {
        using var dir = new TempDir();
        var close = new Dictionary<(string, int), double[]>
        {
            [("baseline", 0)] = [100, 60, 40, 30, 20],
            [("baseline", 1)] = [100, 64, 44, 34, 24],
            [("iar", 0)] = [100, 60, 40, 30, 19],
            [("iar", 1)] = [100, 64, 44, 34, 25],
        };
        WriteRun(dir.Path, close);
        var verdict = RunReport.Build(dir.Path).Verdict;
        Assert.Contains("no speed difference detected", verdict);
        Assert.Contains("no end-quality difference detected (final FID Δ 0.00 ± 12.71)", verdict);   // differences −1, +1: t(1) · √2 / √2
    }

    [Fact]
    public void The_verdict_names_control_arms_by_what_they_are_not_as_iar()
    {
        using var dir = new TempDir();
        string config = Config + """

              - name: random
                iar: { enabled: true, cluster_size: 4, clustering: random }
              - name: blocks
                iar: { enabled: true, cluster_size: 4, clustering: none }
              - name: lambda0
                iar: { enabled: true, cluster_size: 4, lambda: 0 }
              - name: unbalanced
                iar: { enabled: true, cluster_size: null, clusters: 4, clustering: kmeans }
              - name: bigger-lr
                training: { lr: 0.01 }
            """;
        // two seeds with the same curves: a verdict needs two, and their spread is 0
        var fid = new[] { "baseline", "iar", "random", "blocks", "lambda0", "unbalanced", "bigger-lr" }
            .SelectMany(arm => new[] { (arm, 0), (arm, 1) })
            .ToDictionary(key => key, key => key.arm == "baseline" ? new double[] { 100, 60, 40, 30, 20 } : [100, 50, 30, 20, 10]);
        WriteRun(dir.Path, fid, config: config);
        var verdict = RunReport.Build(dir.Path).Verdict;
        foreach (var who in new[]
        {
            "IAR (arm 'iar'): faster", "Cluster CE on random clusters (arm 'random'): faster", "Cluster CE without rearrangement (arm 'blocks'): faster",
            "Rearrangement without cluster CE (arm 'lambda0'): faster", "IAR with unbalanced k-means clusters (arm 'unbalanced'): faster",
            "Arm 'bigger-lr': faster",
        })
            Assert.Contains(who, verdict);
        Assert.DoesNotContain("IAR (arm 'random')", verdict);
    }

    [Fact]
    public void A_sweep_over_the_baselines_settings_compares_each_iar_arm_with_the_baseline_of_its_settings()
    {
        using var dir = new TempDir();
        // baseline × iar × lr: the larger lr helps both, and IAR is worse than the baseline at that lr (12 against 10),
        // though better than the run's first baseline (20); a verdict against that one would call it a help.
        string config = Config + "\nsweep: {grid: {training.lr: [0.001, 0.01]}}\n";
        var fid = new Dictionary<(string Arm, int Seed), double[]>
        {
            [("baseline_lr-0.001", 0)] = [100, 60, 40, 30, 20],
            [("baseline_lr-0.01", 0)] = [100, 50, 30, 15, 10],
            [("iar_lr-0.001", 0)] = [100, 50, 30, 20, 14],
            [("iar_lr-0.01", 0)] = [100, 50, 30, 20, 12],
        };
        WriteRun(dir.Path, fid, config: config);
        var outcome = RunReport.Build(dir.Path);
        Assert.Equal("baseline_lr-0.001", outcome.Comparisons.Single(c => c.Arm == "iar_lr-0.001").Baseline);
        Assert.Equal("baseline_lr-0.01", outcome.Comparisons.Single(c => c.Arm == "iar_lr-0.01").Baseline);
        // one seed per arm: each part shows its numbers but names no difference
        Assert.Contains("IAR (arm 'iar_lr-0.001'): speed not judged with one seed (", outcome.Verdict);
        // against its own baseline it is 0.93–1× as fast along the descent and ends 2 higher (± 2√2 · 3 % of 10 with one seed)
        Assert.Contains("IAR (arm 'iar_lr-0.01') (against arm 'baseline_lr-0.01', its settings without IAR): speed not judged with one seed (", outcome.Verdict);
        Assert.Contains("end quality not judged with one seed (final FID Δ +2.00 ± 0.85)", outcome.Verdict);
        // The other baseline has no twin without IAR, so it is compared with the run's baseline, as any arm would be.
        Assert.Contains("Arm 'baseline_lr-0.01': speed not judged", outcome.Verdict);
        var md = File.ReadAllText(outcome.MarkdownPath);
        Assert.Contains("| iar_lr-0.01 | baseline_lr-0.01 | ", md);
        foreach (var arm in fid.Keys.Select(k => k.Arm)) Assert.Contains($"| {arm} | 400 |", md);
    }

    /// <summary>
    /// One seed's intervals hold the evaluation noise (± 2√2 · 3 % of 20 = 1.70 here), not the seed-to-seed noise that
    /// flipped the quickstart's one-seed speed-up (1.15× for seed 0, 0.88× for seed 1): however large, no difference is named.
    /// </summary>
    [Theory]
    [InlineData(19.5, "end quality not judged with one seed (final FID Δ -0.50 ± 1.70)")]
    [InlineData(18.0, "end quality not judged with one seed (final FID Δ -2.00 ± 1.70)")]    // beyond the evaluation noise
    [InlineData(22.0, "end quality not judged with one seed (final FID Δ +2.00 ± 1.70)")]
    [InlineData(5.0, "end quality not judged with one seed (final FID Δ -15.00 ± 1.70)")]
    public void With_one_seed_per_arm_no_difference_is_named(double iarFinal, string verdict)
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, new Dictionary<(string, int), double[]>
        {
            [("baseline", 0)] = [100, 60, 40, 30, 20],
            [("iar", 0)] = [100, 60, 40, 30, iarFinal],
        });
        var outcome = RunReport.Build(dir.Path);
        Assert.Contains(verdict, outcome.Verdict);
        Assert.Contains("speed not judged with one seed", outcome.Verdict);
        Assert.Contains("One seed per pair of arms", outcome.Verdict);
        var iar = outcome.Comparisons.Single();
        Assert.Equal((SpeedAnswer.OneSeed, EndQualityAnswer.OneSeed), (iar.SpeedAnswer, iar.EndQualityAnswer));
    }

    [Theory]
    [InlineData(new double[] { 9, 10, 11 }, "better end quality (final FID Δ -8.00 ± 2.00)", "±2.83")]                   // sd 1: 2√2 / √2 seeds = 2 < 8
    [InlineData(new double[] { 5, 10, 15 }, "no end-quality difference detected (final FID Δ -8.00 ± 10.00)", "±14.14")]  // sd 5: 10 > 8
    public void A_difference_inside_the_noise_floor_is_no_difference(double[] floorFids, string verdict, string margin)
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, Fid);                                                       // final FID 22 vs 14: beyond the seed spread (2.83 + 2.83)
        new NoiseFloors([new NoiseFloor(1000, 2000, 6000, floorFids, true, 1)]).Write(Path.Combine(dir.Path, RunLayout.NoiseFloor));
        var outcome = RunReport.Build(dir.Path);
        Assert.Contains(verdict, outcome.Verdict);
        var md = File.ReadAllText(outcome.MarkdownPath);
        Assert.Contains($" | {margin} | 2 |", md);
        Assert.Contains($"| real held-out images (noise floor) | — | 10.00 ± {floorFids[2] - 10:F2} (n=3) | — |", md);
        Assert.Contains("3 disjoint draws of 1000 real held-out images out of 2000", md);
    }

    [Fact]
    public void A_floor_of_two_draws_gives_its_level_but_no_margin()
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, Fid);                                                       // final FID 22 vs 14: beyond the seed spread
        // two draws that happen to agree closely: their sd (0.0007) says nothing about the noise of one FID
        new NoiseFloors([new NoiseFloor(1000, 2000, 6000, [10, 10.001], true, 1)]).Write(Path.Combine(dir.Path, RunLayout.NoiseFloor));
        var outcome = RunReport.Build(dir.Path);
        Assert.Contains("better end quality (final FID Δ -8.00 ± 0.00)", outcome.Verdict);   // the seed spread alone
        var md = File.ReadAllText(outcome.MarkdownPath);
        Assert.Contains(" | — | 2 |", md);
        Assert.Contains("| real held-out images (noise floor) | — | 10.00 (n=2) | — |", md);
        Assert.Contains("2 disjoint draws of 1000 real held-out images out of 2000; min 10.00, max 10.00; too few for a spread", md);
    }

    [Fact]
    public void A_floor_at_another_sample_count_is_not_used()
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, Fid);                                                       // the arms evaluate on 1000 samples (the default)
        new NoiseFloors([new NoiseFloor(400, 2000, 6000, [6, 10, 14], true, 1)]).Write(Path.Combine(dir.Path, RunLayout.NoiseFloor));
        var outcome = RunReport.Build(dir.Path);
        Assert.Contains("better end quality (final FID Δ -8.00 ± 0.00)", outcome.Verdict);   // sd 4 at N = 400 would give ± 8
    }

    [Fact]
    public void Plots_are_valid_pngs_and_the_html_embeds_every_image()
    {
        using var dir = new TempDir();
        WriteRun(dir.Path, Fid);
        var outcome = RunReport.Build(dir.Path);

        var names = outcome.Plots.Select(p => Path.GetFileName(p)).ToArray();
        Assert.Equal(new[] { "fid.png", "loss.png", "loss-cluster_ce.png", "loss-token_ce.png", "inception_score.png", "class_accuracy.png",
            "token_accuracy.png", "cluster_accuracy.png" }, names);
        foreach (var plot in outcome.Plots)
        {
            using var bitmap = SKBitmap.Decode(plot);
            Assert.NotNull(bitmap);
            Assert.Equal((ReportPlots.Width, ReportPlots.Height), (bitmap.Width, bitmap.Height));
            // a real plot draws coloured lines, not a blank canvas
            var colours = Enumerable.Range(0, 40).SelectMany(x => Enumerable.Range(0, 40).Select(y => bitmap.GetPixel(x * 20, y * 11))).Distinct().Count();
            Assert.True(colours > 3, $"{plot} looks blank ({colours} colours)");
        }

        var html = File.ReadAllText(outcome.HtmlPath);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<link", html);
        var sources = Regex.Matches(html, "<img [^>]*src=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(outcome.Plots.Count + 4, sources.Length);   // the plots and 2 arms × 2 seeds of sample grids
        foreach (var src in sources)
        {
            Assert.StartsWith("data:image/png;base64,", src);
            using var decoded = SKBitmap.Decode(Convert.FromBase64String(src["data:image/png;base64,".Length..]));
            Assert.NotNull(decoded);
        }
        Assert.Contains("IAR (arm &#39;iar&#39;): faster", html);

        var md = File.ReadAllText(outcome.MarkdownPath);
        Assert.Contains("![FID vs step](report/fid.png)", md);
        Assert.Contains("![iar, seed 1](samples/iar/seed-1/grid.png)", md);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_run_without_metrics_is_a_clear_error()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => RunReport.Build(dir.Path));
        Assert.Contains("metrics.jsonl does not exist", e.Message);
    }

    [Fact]
    public void A_run_without_evaluations_says_it_cannot_answer()
    {
        using var dir = new TempDir();
        new MetricsLog(Path.Combine(dir.Path, RunLayout.MetricsFile)).Append(new Dictionary<string, object?>
            { ["stage"] = "generator", ["arm"] = "baseline", ["seed"] = 0, ["step"] = 10, ["loss"] = 3.0 });
        var outcome = RunReport.Build(dir.Path);
        Assert.Contains("cannot say whether IAR helped", outcome.Verdict);
        Assert.True(File.Exists(outcome.HtmlPath));
    }
}
