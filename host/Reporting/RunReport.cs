using IAR.Host.Configuration;
using IAR.Host.Runs;
using IAR.Host.Iar;
using System.Globalization;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Host.Serialization;

namespace IAR.Host.Reporting;

/// <summary>
/// Builds report.md and a self-contained report.html in a run directory from what the run recorded: metrics.jsonl
/// (training losses and evaluations), the sample grids, the feature-extractor summary and the resolved config.
/// Every number comes from those files; nothing is pre-written. The report answers whether IAR helped.
/// </summary>
public static class RunReport
{

    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Evaluation metrics in table order, with their headings.</summary>
    static readonly (string Key, string Heading)[] TableMetrics =
    [
        (MetricNames.Fid, "FID ↓"), (MetricNames.InceptionScore, "IS ↑"), (MetricNames.Precision, "precision ↑"),
        (MetricNames.Recall, "recall ↑"), (MetricNames.ClassAccuracy, "class acc. ↑"), (MetricNames.TokenNll, "token NLL ↓"),
        (MetricNames.TokenAccuracy, "token acc. ↑"), (MetricNames.ClusterAccuracy, "cluster acc. ↑"),
        (MetricNames.WrongTop1RightCluster, "wrong top-1, right cluster"),
    ];

    /// <summary>Writes the report (atomically) and returns what it wrote and concluded.</summary>
    /// <param name="runDirectory">The run folder holding metrics.jsonl (and config.yaml, samples/, evaluation/).</param>
    /// <param name="experiment">The run's experiment; null reads config.yaml from the folder (arm settings are omitted if that fails).</param>
    /// <exception cref="FileNotFoundException">The folder has no metrics.jsonl.</exception>
    public static ReportOutcome Build(string runDirectory, Experiment? experiment = null)
    {
        var metricsFile = Path.Combine(runDirectory, RunLayout.MetricsFile);
        if (!File.Exists(metricsFile))
            throw new FileNotFoundException($"{metricsFile} does not exist; a report is built from a run's metrics.jsonl.", metricsFile);
        experiment ??= TryLoadConfig(runDirectory);
        var records = RunRecords.Read(runDirectory);
        var (arms, baseline, floors, comparisons) = Analyse(runDirectory, records, experiment);
        var baselineFloor = baseline is null ? null : FloorOf(baseline, floors, experiment);
        var plots = WritePlots(runDirectory, records, arms, baseline, baselineFloor);
        var verdict = Verdict(records.Evaluations, baseline, comparisons, experiment);

        var title = $"IAR ablation report: {experiment?.Spec.Name ?? Path.GetFileName(Path.GetFullPath(runDirectory))}";
        var blocks = new List<ReportBlock> { new HeadingBlock(1, title) };
        if (experiment?.Spec.Description is { Length: > 0 } description) blocks.Add(new ParagraphBlock(description));
        blocks.Add(new ParagraphBlock(
            $"Built from the metrics.jsonl files of {Path.GetFullPath(runDirectory)}: {records.Training.Count} training records and " +
            $"{records.Evaluations.Count} evaluation records, arms {string.Join(", ", arms)}; baseline arm: {baseline ?? "none"}."));
        blocks.Add(new HeadingBlock(2, "Did IAR help?"));
        blocks.Add(new ParagraphBlock(verdict, Emphasis: true));
        blocks.AddRange(VerdictTable(baseline, comparisons));
        blocks.AddRange(SeedPairs(baseline, comparisons));
        blocks.AddRange(Setup(runDirectory, arms, experiment));
        blocks.AddRange(ClusterHealthTable(runDirectory, arms));
        blocks.AddRange(FinalTable(records.Evaluations, arms, baselineFloor));
        blocks.AddRange(FidByStepTable(records.Evaluations, arms));
        blocks.AddRange(Curves(plots));
        blocks.AddRange(Samples(runDirectory, arms));

        var markdown = Path.Combine(runDirectory, RunLayout.ReportMarkdownFile);
        var html = Path.Combine(runDirectory, RunLayout.ReportHtmlFile);
        AtomicFile.WriteAllText(markdown, MarkdownRenderer.Render(blocks));
        AtomicFile.WriteAllText(html, HtmlRenderer.Render(title, blocks, runDirectory));
        return new ReportOutcome(markdown, html, plots.Select(p => Path.Combine(runDirectory, p.Path)).ToArray(), verdict, comparisons);
    }

    /// <summary>
    /// Every arm's comparison with its baseline in a run folder, as its report's verdict has them, without writing the
    /// report (<c>iar pool</c> reads several runs this way).
    /// </summary>
    /// <param name="experiment">The run's experiment; null reads config.yaml from the folder.</param>
    /// <exception cref="FileNotFoundException">The folder has no metrics.jsonl.</exception>
    public static IReadOnlyList<ArmComparison> Comparisons(string runDirectory, Experiment? experiment = null)
    {
        var metricsFile = Path.Combine(runDirectory, RunLayout.MetricsFile);
        if (!File.Exists(metricsFile))
            throw new FileNotFoundException($"{metricsFile} does not exist; a run's comparisons are read from its metrics.jsonl.", metricsFile);
        return Analyse(runDirectory, RunRecords.Read(runDirectory), experiment ?? TryLoadConfig(runDirectory)).Comparisons;
    }

    /// <summary>The arms in report order, the baseline, the noise floors and every arm's comparison: what the verdict stands on.</summary>
    static (IReadOnlyList<string> Arms, string? Baseline, NoiseFloors? Floors, IReadOnlyList<ArmComparison> Comparisons) Analyse(
        string runDirectory, RunRecords records, Experiment? experiment)
    {
        var arms = OrderArms(records.Arms, experiment);
        var baseline = ChooseBaseline(arms, experiment);
        var floors = NoiseFloors.Read(Path.Combine(runDirectory, RunLayout.NoiseFloor));
        return (arms, baseline, floors, Compare(records.Evaluations, arms, baseline, PairBaselines(arms, baseline, experiment), experiment, floors));
    }

    /// <summary>An arm's two answers in words: "faster (1.17× [1.14, 1.21] …); better end quality (final FID Δ …)".</summary>
    public static string Answers(ArmComparison c) => $"{SpeedWords(c)}; {EndQualityWords(c)}";

    static Experiment? TryLoadConfig(string runDirectory)
    {
        var config = Path.Combine(runDirectory, RunLayout.ConfigFile);
        if (!File.Exists(config)) return null;
        try
        {
            return ExperimentLoader.Load(config);
        }
        catch (IAR.Abstractions.ConfigurationException)
        {
            return null;   // an older or edited config: the report still stands on metrics.jsonl alone
        }
    }

    static IReadOnlyList<string> OrderArms(IReadOnlyList<string> recorded, Experiment? experiment)
    {
        var configured = experiment?.Arms.Select(a => a.Name).Where(recorded.Contains) ?? [];
        return configured.Concat(recorded).Distinct().ToArray();
    }

    /// <summary>The arm without IAR (preferring one named "baseline"); without a config, "baseline" or the first arm.</summary>
    static string? ChooseBaseline(IReadOnlyList<string> arms, Experiment? experiment)
    {
        if (arms.Count == 0) return null;
        var withoutIar = experiment?.Arms.Where(a => !a.Spec.Iar.Enabled && arms.Contains(a.Name)).Select(a => a.Name).ToArray() ?? [];
        if (withoutIar.Length > 0) return withoutIar.Contains("baseline") ? "baseline" : withoutIar[0];
        return arms.Contains("baseline") ? "baseline" : arms[0];
    }

    /// <summary>
    /// The arm each arm is compared with: an arm without IAR whose settings equal its own apart from <c>iar</c> (a sweep's
    /// <c>baseline_lr-0.001</c> for <c>iar_lr-0.001</c>), so that a swept setting is compared like for like; else the
    /// run's baseline. Empty without a baseline.
    /// </summary>
    static IReadOnlyDictionary<string, string> PairBaselines(IReadOnlyList<string> arms, string? baseline, Experiment? experiment)
    {
        if (baseline is null) return new Dictionary<string, string>();
        var withoutIar = experiment?.Arms.Where(a => !a.Spec.Iar.Enabled && arms.Contains(a.Name)).ToArray() ?? [];
        return arms.ToDictionary(arm => arm, arm =>
        {
            if (arm == baseline || experiment?.Arms.FirstOrDefault(a => a.Name == arm) is not { } plan) return baseline;
            var twins = withoutIar.Where(b => b.Name != arm && ApartFromIar(b.Spec) == ApartFromIar(plan.Spec)).Select(b => b.Name).ToArray();
            return twins.Contains(baseline) || twins.Length == 0 ? baseline : twins[0];
        });
    }

    /// <summary>An arm's settings with its <c>iar</c> section reset, as the resolved YAML writes them.</summary>
    static string ApartFromIar(ExperimentSpec spec)
    {
        var rest = spec with { Iar = new IarSpec() };
        return SpecYamlWriter.Write(rest, [new ArmPlan(ArmPlan.DefaultName(rest), rest)]);
    }

    /// <summary>Every arm but the run's baseline against its paired baseline, judged with the noise floor of the two arms' sample counts.</summary>
    static IReadOnlyList<ArmComparison> Compare(IReadOnlyList<MetricPoint> evaluations, IReadOnlyList<string> arms, string? baseline,
        IReadOnlyDictionary<string, string> baselines, Experiment? experiment, NoiseFloors? floors) =>
        arms.Where(arm => arm != baseline && baselines.ContainsKey(arm))
            .Select(arm => ArmComparison.Of(evaluations, arm, baselines[arm],
                WiderFloor(FloorOf(baselines[arm], floors, experiment), FloorOf(arm, floors, experiment))))
            .OfType<ArmComparison>()
            .ToArray();

    /// <summary>
    /// How the verdict names an arm: "IAR" only for the method itself (balanced k-means, λ &gt; 0); the controls by what
    /// they are, so that "Cluster CE on random clusters helped" is not read as "IAR helped". Without the experiment's
    /// configuration an arm is called IAR.
    /// </summary>
    static string Who(string arm, IarSpec? iar) => iar switch
    {
        null => $"IAR (arm '{arm}')",
        { Enabled: false } => $"Arm '{arm}'",
        { Lambda: 0 } => $"Rearrangement without cluster CE (arm '{arm}')",
        { Clustering: ClusteringMethod.Random } => $"Cluster CE on random clusters (arm '{arm}')",
        { Clustering: ClusteringMethod.None } => $"Cluster CE without rearrangement (arm '{arm}')",
        { Clustering: ClusteringMethod.Kmeans } => $"IAR with unbalanced k-means clusters (arm '{arm}')",
        _ => $"IAR (arm '{arm}')",
    };

    /// <summary>
    /// The noise floor at the sample count <paramref name="arm"/> evaluates with (its <c>evaluation.num_samples</c>);
    /// without the experiment's configuration, the run's only floor. Null when the run recorded none for it.
    /// </summary>
    static NoiseFloor? FloorOf(string arm, NoiseFloors? floors, Experiment? experiment)
    {
        if (floors is null) return null;
        if (experiment?.Arms.FirstOrDefault(a => a.Name == arm) is { } spec) return floors.At(spec.Spec.Evaluation.NumSamples);
        return floors.Floors.Count == 1 ? floors.Floors[0] : null;
    }

    /// <summary>The noisier of two arms' floors (they differ only when the arms sample different counts).</summary>
    static NoiseFloor? WiderFloor(NoiseFloor? a, NoiseFloor? b) =>
        a is not { Measured: true } ? b : b is not { Measured: true } ? a : a.HasSpread != b.HasSpread ? (a.HasSpread ? a : b) : a.Margin >= b.Margin ? a : b;

    /// <summary>
    /// The answer in one line: per compared arm, its speed and its end quality, each naming a difference only when its
    /// interval excludes "no difference" (<see cref="ArmComparison.SpeedAnswer"/>, <see cref="ArmComparison.EndQualityAnswer"/>).
    /// </summary>
    static string Verdict(IReadOnlyList<MetricPoint> evaluations, string? baseline, IReadOnlyList<ArmComparison> comparisons, Experiment? experiment)
    {
        if (baseline is null) return "This run recorded no arms, so there is nothing to compare.";
        if (MetricCurves.Final(evaluations, baseline, MetricNames.Fid) is null)
            return $"No FID was recorded for the baseline arm '{baseline}', so this report cannot say whether IAR helped.";
        if (comparisons.Count == 0) return "Only the baseline arm recorded FID, so this report cannot say whether IAR helped.";
        return string.Join(" ", comparisons.Select(c =>
        {
            // A sweep's arms each have their own baseline (the same settings without IAR); named when it is not the run's.
            string who = Who(c.Arm, experiment?.Arms.FirstOrDefault(a => a.Name == c.Arm)?.Spec.Iar) +
                         (c.Baseline == baseline ? "" : $" (against arm '{c.Baseline}', its settings without IAR)");
            return $"{who}: {Answers(c)}.";
        })) + (comparisons.Any(c => c.EndQuality.Seeds < 2)
            ? " One seed per pair of arms: its intervals hold the evaluation noise only, not the seed-to-seed noise (which can flip a one-seed answer), so no difference is named; run with seeds: [0, 1, 2] for a verdict."
            : "");
    }

    static string SpeedWords(ArmComparison c) => c.SpeedAnswer switch
    {
        SpeedAnswer.Faster => $"faster ({Ratio(c.Speed!.Ratio)} the baseline's steps to its FIDs)",
        SpeedAnswer.Slower => $"slower ({Ratio(c.Speed!.Ratio)} the baseline's steps to its FIDs)",
        SpeedAnswer.NoDifferenceDetected => $"no speed difference detected ({Ratio(c.Speed!.Ratio)})",
        SpeedAnswer.OneSeed => $"speed not judged with one seed ({Ratio(c.Speed!.Ratio)} the baseline's steps to its FIDs)",
        _ => "speed not measured (the baseline's FID does not fall)",
    };

    static string EndQualityWords(ArmComparison c) => c.EndQualityAnswer switch
    {
        EndQualityAnswer.Better => $"better end quality (final FID {Difference(c.EndQuality.Difference)})",
        EndQualityAnswer.Worse => $"worse end quality (final FID {Difference(c.EndQuality.Difference)})",
        EndQualityAnswer.OneSeed => $"end quality not judged with one seed (final FID {Difference(c.EndQuality.Difference)})",
        _ => $"no end-quality difference detected (final FID {Difference(c.EndQuality.Difference)})",
    };

    /// <summary>"1.47× [1.31, 1.65]": the ratio and its 95 % interval.</summary>
    static string Ratio(ConfidenceInterval r) => $"{F(r.Estimate)}× [{F(r.Low)}, {F(r.High)}]";

    /// <summary>"Δ −0.80 ± 0.85" for a symmetric interval, else "Δ −0.80 [−1.60, −0.10]".</summary>
    static string Difference(ConfidenceInterval d) =>
        Math.Abs((d.High - d.Estimate) - (d.Estimate - d.Low)) < 1e-9
            ? $"Δ {Signed(d.Estimate)} ± {F(d.High - d.Estimate)}"
            : $"Δ {Signed(d.Estimate)} [{Signed(d.Low)}, {Signed(d.High)}]";

    static string Signed(double v) => v.ToString("+0.00;-0.00;0.00", Invariant);

    /// <summary><c>plugin/preset</c>, with the option overrides when there are any (<c>LlamaGen/GPT-S (dim 128)</c>).</summary>
    static string ModelName(string plugin, string preset, IReadOnlyDictionary<string, string> options) =>
        options.Count == 0 ? $"{plugin}/{preset}" : $"{plugin}/{preset} ({string.Join(", ", options.Select(o => $"{o.Key} {o.Value}"))})";

    static IEnumerable<ReportBlock> Setup(string runDirectory, IReadOnlyList<string> arms, Experiment? experiment)
    {
        yield return new HeadingBlock(2, "Setup");
        if (experiment is not null)
        {
            var rows = arms.Select(name => experiment.Arms.FirstOrDefault(a => a.Name == name))
                .Where(a => a is not null)
                .Select(a =>
                {
                    var s = a!.Spec;
                    var clusters = s.Iar.ClusterSize is int m ? $"m = {m}" : s.Iar.Clusters is int n ? $"n = {n}" : "—";
                    return (IReadOnlyList<string>)[a.Name, s.Iar.Enabled ? "on" : "off", s.Iar.Enabled ? F(s.Iar.Lambda) : "—",
                        s.Iar.Enabled ? clusters : "—", s.Iar.Enabled ? SpecSchema.EnumValue(s.Iar.Clustering) : "—",
                        ModelName(s.Generator.Plugin, s.Generator.Preset, s.Generator.Options), s.Training.Steps.ToString(Invariant),
                        string.Join(", ", s.EffectiveSeeds), s.Evaluation.NumSamples.ToString(Invariant)];
                })
                .ToArray();
            yield return new TableBlock(["arm", "IAR", "λ", "cluster", "clustering", "generator", "steps", "seeds", "eval samples"], rows);
            var t = experiment.Spec.Tokenizer;
            // where the tokenizer came from: the verdict answers for this one tokenizer (IAR's lead moves with it)
            var origin = t.Checkpoint is { } file ? $"loaded from {file}" : $"trained in this run ({t.Training.Steps} steps, seed {experiment.Spec.Seed})";
            yield return new ParagraphBlock($"Tokenizer: {ModelName(t.Plugin, t.Preset, t.Options)}, {origin}; " +
                                            $"data: {SpecSchema.EnumValue(experiment.Spec.Data.Source)}, {experiment.Spec.Data.ImageSize}×{experiment.Spec.Data.ImageSize}.");
        }
        var summary = FeatureExtractorSummary.Read(Path.Combine(runDirectory, RunLayout.FeatureExtractorSummary));
        if (summary is not null)
            yield return new ParagraphBlock(
                $"Image metrics use the feature extractor: {summary.Description}. Reference statistics from {summary.ReferenceImages} real training images" +
                (summary.RealInceptionScore is double score ? $"; Inception Score of the real held-out images: {F(score)} (the ceiling for samples)." : ".") +
                " These FIDs compare arms of this run; they are not comparable with published Inception-v3 FIDs (score samples.npz with the ADM evaluator for those).");
    }

    /// <summary>
    /// How the live codes (used in the training token cache) spread over each rearranged arm's clusters, from the
    /// rearrange step's record in <c>permutation.safetensors</c>: a cluster diluted by dead codes predicts fewer real
    /// tokens, so a weak IAR result with diluted clusters says more about the codebook than about IAR. Also how tight
    /// the clusters are: the within-cluster error left by the clustering, as a share of the error of the same blocks
    /// over the original (arbitrary) numbering — about 1 for random clusters. Over six quickstart runs (README) the
    /// smaller this share, the larger IAR's speed-up tended to be (a hint from six runs, not a finding).
    /// </summary>
    static IEnumerable<ReportBlock> ClusterHealthTable(string runDirectory, IReadOnlyList<string> arms)
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var arm in arms)
        {
            var folder = Path.Combine(runDirectory, RunLayout.ArmsFolder, arm);
            if (!Directory.Exists(folder)) continue;
            foreach (var file in Directory.GetFiles(folder, RunLayout.PermutationFile, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var stats = SafeTensorsFile.Open(file).Metadata;
                string Stat(string key) => stats.GetValueOrDefault("iar.stats." + key, "?");
                if (!stats.ContainsKey("iar.stats.live_codes")) continue;
                var codes = int.TryParse(Stat("live_codes"), Invariant, out var live) && int.TryParse(Stat("dead_codes"), Invariant, out var dead) ? $"{live} of {live + dead}" : "?";
                var errorLeft = double.TryParse(Stat("error_after"), Invariant, out var after) && double.TryParse(Stat("error_before"), Invariant, out var before) && before > 0
                    ? (after / before).ToString("F3", Invariant) : "?";
                rows.Add([arm, Path.GetFileName(Path.GetDirectoryName(file)!), codes,
                    $"{Stat("live_per_cluster_min")} / {Stat("live_per_cluster_median")} / {Stat("live_per_cluster_max")}",
                    Stat("diluted_clusters"), Stat("dead_clusters"), errorLeft]);
            }
        }
        if (rows.Count == 0) yield break;
        yield return new ParagraphBlock("Cluster health of each rearranged arm: codes used in the training token cache (live) and how they fill the clusters " +
                                        "(a cluster with a dead code is diluted; dead-only clusters hold no token the data uses), and how tight the clusters are: " +
                                        "the within-cluster error left, as a share of the same blocks' error over the original numbering (≈ 1 for random clusters; smaller is tighter).");
        yield return new TableBlock(["arm", "seed", "live codes", "live per cluster (min / median / max)", "diluted clusters", "dead-only clusters", "within-cluster error left"], rows);
    }

    static IEnumerable<ReportBlock> FinalTable(IReadOnlyList<MetricPoint> evaluations, IReadOnlyList<string> arms, NoiseFloor? floor)
    {
        var columns = TableMetrics.Where(m => evaluations.Any(p => p.Values.ContainsKey(m.Key))).ToArray();
        if (columns.Length == 0) yield break;
        yield return new HeadingBlock(2, "Final metrics");
        yield return new ParagraphBlock("Each seed's last evaluation; mean ± standard deviation over seeds (n = number of seeds).");
        var rows = arms.Select(arm =>
        {
            var step = MetricCurves.FinalStep(evaluations, arm, columns[0].Key);
            var cells = new List<string> { arm, step?.ToString(Invariant) ?? "—" };
            cells.AddRange(columns.Select(m => MetricCurves.Final(evaluations, arm, m.Key) is { } s
                ? Summary(s, m.Key == MetricNames.Fid ? 2 : 3)
                : "—"));
            return (IReadOnlyList<string>)cells;
        }).ToList();
        if (floor is { Measured: true })
            rows.Add(["real held-out images (noise floor)", "—", .. columns.Select(m => m.Key == MetricNames.Fid
                ? $"{floor.Level} (n={floor.Fids.Count})"
                : "—")]);
        yield return new TableBlock(["arm", "step", .. columns.Select(c => c.Heading)], rows);
        if (floor is not null)
            yield return new ParagraphBlock(!floor.Measured
                ? $"FID noise floor {floor.Describe()}."
                : $"FID noise floor (last row): the FID of N = {floor.SampleCount} real held-out images against the same reference, {floor.Describe()}. " +
                  $"A perfect generator would score about {F(floor.Mean)}; " + (floor.HasSpread
                      ? $"two {floor.SampleCount}-sample FIDs that differ by less than {F(floor.Margin)} (2√2 × the floor's sd) are not told apart by this evaluation."
                      : $"the held-out split holds fewer than {NoiseFloor.MinimumDrawsForSpread} disjoint draws of N, so the sampling noise of one FID is not estimated and the verdict rests on the seed spread."));
    }

    /// <summary>
    /// FID at every evaluated step, one row per step and one column per arm, mean ± sd over the seeds (as the curves
    /// plot it): the gain's course over training length, which the final table and the verdict's two numbers fold away.
    /// </summary>
    static IEnumerable<ReportBlock> FidByStepTable(IReadOnlyList<MetricPoint> evaluations, IReadOnlyList<string> arms)
    {
        var curves = arms.Select(arm => MetricCurves.Curve(evaluations, arm, MetricNames.Fid).ToDictionary(p => p.Step, p => p.Value)).ToArray();
        var steps = curves.SelectMany(c => c.Keys).Distinct().Order().ToArray();
        if (steps.Length == 0) yield break;
        yield return new HeadingBlock(2, "FID at each evaluation");
        yield return new ParagraphBlock("Mean ± standard deviation over the seeds that evaluated the step (n = number of seeds); — where an arm has no evaluation at that step.");
        yield return new TableBlock(["step", .. arms.Select(arm => $"{arm} FID ↓")],
            steps.Select(step => (IReadOnlyList<string>)[step.ToString(Invariant), .. curves.Select(c => c.TryGetValue(step, out var s) ? Summary(s, 2) : "—")]).ToArray());
    }

    /// <summary>The numbers behind the verdict: one row per compared arm, speed and end quality with their intervals.</summary>
    static IEnumerable<ReportBlock> VerdictTable(string? baseline, IReadOnlyList<ArmComparison> comparisons)
    {
        if (comparisons.Count == 0) yield break;
        bool paired = comparisons.Any(c => c.Baseline != baseline);
        var rows = comparisons.Select(c => (IReadOnlyList<string>)
        [
            c.Arm, .. paired ? [c.Baseline] : Array.Empty<string>(),
            c.Speed is { } s ? Ratio(s.Ratio) : "—",
            c.Speed is { } l ? $"{l.Levels} from {F(l.HighestLevel)} to {F(l.LowestLevel)}" + (l.LevelsNotReached > 0 ? $" ({l.LevelsNotReached} not reached)" : "") : "—",
            Difference(c.EndQuality.Difference),
            c.EndQuality.FloorMargin is double m ? $"±{F(m)}" : "—",
            c.EndQuality.Seeds.ToString(Invariant),
        ]).ToArray();
        yield return new TableBlock(["arm", .. paired ? ["baseline"] : Array.Empty<string>(), "speed-up [95 %]", "FID levels",
            "Δ final FID [95 %]", "noise floor margin", "seeds"], rows);
        yield return new ParagraphBlock(
            "Speed-up: the baseline's steps over the arm's to reach FID levels spread over the baseline's descent (k/6 of the way from its first " +
            "to its final FID, k = 1…5; crossings interpolated between evaluations; while a job still runs, both curves cut at the last step both " +
            "reached), geometric mean over levels; > 1 is faster. Not the baseline's " +
            "final FID: on its plateau a change within the noise moves that crossing by hundreds of steps. Δ final FID: arm − baseline at each " +
            "seed's last evaluation (while a job still runs, the last step both arms evaluated), paired by seed; < 0 is better. " +
            "Intervals: " + string.Join("; ",
                comparisons.SelectMany(c => new[] { c.Speed?.Basis, c.EndQuality.Basis }).OfType<string>().Distinct()) +
            ". A difference is named only when its interval excludes 1 (speed) or 0 (end quality), and only with two or more seeds: " +
            "one seed's intervals hold the evaluation noise alone.");
    }

    /// <summary>
    /// The replicates behind the verdict's intervals: each seed pair's speed-up and final-FID difference, so a reader sees
    /// whether the seeds agree (an interval that includes "no difference" can hide three seeds on one side). Only for
    /// arms compared over two or more common seeds.
    /// </summary>
    static IEnumerable<ReportBlock> SeedPairs(string? baseline, IReadOnlyList<ArmComparison> comparisons)
    {
        var seeded = comparisons.Where(c => c.EndQuality.Seeds >= 2).ToArray();
        if (seeded.Length == 0) yield break;
        bool paired = seeded.Any(c => c.Baseline != baseline);
        var rows = seeded.SelectMany(c => c.EndQuality.SeedDifferences.Keys.Order().Select(seed => (IReadOnlyList<string>)
        [
            c.Arm, .. paired ? [c.Baseline] : Array.Empty<string>(), seed.ToString(Invariant),
            c.Speed?.SeedRatios.TryGetValue(seed, out var ratio) == true ? $"{F(ratio)}×" : "—",
            $"{Signed(c.EndQuality.SeedDifferences[seed])}",
        ])).ToArray();
        yield return new ParagraphBlock("Each seed pair (the replicates of the intervals above): " + string.Join("; ", seeded.Select(c =>
        {
            var ratios = c.Speed?.SeedRatios.Values.ToArray() ?? [];
            var differences = c.EndQuality.SeedDifferences.Values.ToArray();
            return $"'{c.Arm}' faster in {ratios.Count(r => r > 1)} of {ratios.Length} seeds, lower final FID in {differences.Count(d => d < 0)} of {differences.Length}";
        })) + ".");
        yield return new TableBlock(["arm", .. paired ? ["baseline"] : Array.Empty<string>(), "seed", "speed-up", "Δ final FID"], rows);
    }

    static IEnumerable<ReportBlock> Curves(IReadOnlyList<(string Path, string Caption)> plots)
    {
        if (plots.Count == 0) yield break;
        yield return new HeadingBlock(2, "Curves");
        foreach (var plot in plots) yield return new ImageRowBlock([plot]);
    }

    static IEnumerable<ReportBlock> Samples(string runDirectory, IReadOnlyList<string> arms)
    {
        var seeds = arms.SelectMany(arm => SeedsWithGrids(runDirectory, arm)).Distinct().Order().ToArray();
        if (seeds.Length == 0) yield break;
        yield return new HeadingBlock(2, "Samples");
        yield return new ParagraphBlock("One row per class, the same sampling seed for every arm (samples/<arm>/seed-<seed>/grid.png).");
        foreach (var seed in seeds)
        {
            var images = arms.Where(arm => File.Exists(Path.Combine(runDirectory, RunLayout.GridFile(arm, seed))))
                .Select(arm => (RunLayout.GridFile(arm, seed), $"{arm}, seed {seed}"))
                .ToArray();
            yield return new ImageRowBlock(images);
        }
    }

    static IEnumerable<int> SeedsWithGrids(string runDirectory, string arm)
    {
        var folder = Path.Combine(runDirectory, RunLayout.SamplesFolder, arm);
        if (!Directory.Exists(folder)) yield break;
        foreach (var dir in Directory.GetDirectories(folder))
            if (Path.GetFileName(dir) is { } name && name.StartsWith("seed-", StringComparison.Ordinal) &&
                int.TryParse(name["seed-".Length..], NumberStyles.Integer, Invariant, out var seed) &&
                File.Exists(Path.Combine(runDirectory, RunLayout.GridFile(arm, seed))))
                yield return seed;
    }

    /// <summary>Writes report/*.png: FID first, then every loss term, then the other evaluation metrics.</summary>
    static IReadOnlyList<(string Path, string Caption)> WritePlots(string runDirectory, RunRecords records, IReadOnlyList<string> arms, string? baseline,
        NoiseFloor? floor)
    {
        var plots = new List<(string, string)>();
        void Plot(IReadOnlyList<MetricPoint> points, string metric, string title, string yLabel, (double, string)? target = null, FloorBand? band = null)
        {
            var series = arms.Select(arm => (arm, MetricCurves.Curve(points, arm, metric))).Where(s => s.Item2.Count > 0).ToArray();
            if (series.Length == 0) return;
            var relative = Path.Combine(RunLayout.ReportPlotsFolder, metric.Replace('/', '-') + ".png");
            ReportPlots.WriteCurves(Path.Combine(runDirectory, relative), title, yLabel, series, target, band);
            plots.Add((relative, title));
        }

        (double, string)? fidTarget = baseline is not null && MetricCurves.Final(records.Evaluations, baseline, MetricNames.Fid) is { } b
            ? (b.Mean, $"baseline final FID {F(b.Mean)}")
            : null;
        var floorBand = floor is { Measured: true }
            ? new FloorBand(floor.Mean, floor.Min, floor.Max,
                $"noise floor: {floor.SampleCount} real held-out images, {F(floor.Mean)} (band = min–max of {floor.Fids.Count} draws)")
            : null;
        Plot(records.Evaluations, MetricNames.Fid, "FID vs step", "FID (lower is better)", fidTarget, floorBand);
        var lossKeys = records.Training.SelectMany(p => p.Values.Keys)
            .Where(k => k == MetricNames.Loss || k.StartsWith(MetricNames.LossTermPrefix, StringComparison.Ordinal))
            .Distinct().OrderBy(k => k == MetricNames.Loss ? "" : k, StringComparer.Ordinal);
        foreach (var key in lossKeys)
            Plot(records.Training, key, key == MetricNames.Loss ? "training loss (weighted total) vs step" : $"{key} (unweighted) vs step", key);
        foreach (var (key, heading) in TableMetrics.Where(m => m.Key != MetricNames.Fid))
            Plot(records.Evaluations, key, $"{key} vs step", heading);
        return plots;
    }

    static string Summary(SeedSummary s, int decimals) =>
        s.Count > 1
            ? $"{s.Mean.ToString("F" + decimals, Invariant)} ± {s.StandardDeviation.ToString("F" + decimals, Invariant)} (n={s.Count})"
            : s.Mean.ToString("F" + decimals, Invariant);

    static string F(double v) => v.ToString("F2", Invariant);

}

/// <summary>What <see cref="RunReport.Build"/> wrote and concluded.</summary>
/// <param name="Verdict">The report's one-line answer to "did IAR help?".</param>
/// <param name="Comparisons">Each arm with FID against its baseline (the run's baseline itself not included).</param>
public sealed record ReportOutcome(
    string MarkdownPath, string HtmlPath, IReadOnlyList<string> Plots, string Verdict, IReadOnlyList<ArmComparison> Comparisons);
