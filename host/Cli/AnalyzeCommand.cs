using IAR.Host.Configuration;
using IAR.Host.Runs;
using System.CommandLine;
using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Analysis;
using IAR.Host.Iar;
using IAR.Host.Data;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Host.Plugins;
using IAR.Host.Recipes;
using IAR.Host.Serialization;
using TorchSharp;

namespace IAR.Host.Cli;

/// <summary>
/// <c>iar analyze codebook --run DIR</c>: the paper's Figure 2 on a run's tokenizer (<see cref="CodeDistanceAnalysis"/>):
/// held-out images, every token replaced by a code at increasing distance, within its cluster or at random, decoded and
/// compared with the reconstruction. Clusters are the run's reference clustering (balanced k-means with its top-level
/// <c>iar</c> settings, the seed given, dead codes from its training token cache).
/// </summary>
public static class AnalyzeCommand
{
    public static Command Build(ConsoleOutput ctx)
    {
        var run = new Option<string>("--run") { Description = "A run folder whose prepare step has finished (config.yaml, tokens/, and tokenizer.safetensors or the tokenizer.checkpoint it loaded).", HelpName = "DIR", Required = true };
        var images = new Option<int>("--images") { Description = "Held-out images, evenly spaced over the test split.", HelpName = "N", DefaultValueFactory = _ => 500 };
        var seed = new Option<int?>("--seed") { Description = "Seed of the clustering and of the random replacements (default: the run's first seed).", HelpName = "N" };
        var clusterSize = new Option<int?>("--cluster-size", "-m") { Description = "m, codes per cluster (default: the run's iar.cluster_size / clusters).", HelpName = "M" };
        var ranks = new Option<string?>("--ranks") { Description = "Ranks k of the nearest-code replacements, e.g. 1,2,4,8 (default: powers of two up to V − 1).", HelpName = "LIST" };
        var arm = new Option<string?>("--arm")
        {
            Description = "Also probe this arm's generator (seed --seed): how often a sampled wrong token lies in the target's cluster.",
            HelpName = "NAME",
        };
        var output = new Option<string?>("--output", "-o") { Description = $"Output folder (default: DIR/{RunLayout.AnalysisFolder}).", HelpName = "DIR" };
        var plugins = CommonOptions.Plugins();
        var codebook = new Command("codebook", "Replace every token by nearer or farther codes (nearest, within its cluster, random), decode, and tabulate and plot PSNR against code distance (the paper's Figure 2).")
        {
            run, images, seed, clusterSize, ranks, arm, output, plugins,
        };
        codebook.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            int count = parse.GetValue(images);
            if (count < 1) throw new ConfigurationException($"--images {count} is invalid; at least 1 is accepted.");
            if (parse.GetValue(clusterSize) is < 1) throw new ConfigurationException($"--cluster-size {parse.GetValue(clusterSize)} is invalid; at least 1 is accepted.");
            var runDir = parse.GetValue(run)!;
            Execute(ctx, runDir, count, parse.GetValue(seed), parse.GetValue(clusterSize), ParseRanks(parse.GetValue(ranks)), parse.GetValue(arm),
                parse.GetValue(output) ?? Path.Combine(runDir, RunLayout.AnalysisFolder), parse.GetValue(plugins) ?? []);
            return ExitCodes.Success;
        }));
        return new Command("analyze", "Analyses of a run's models.") { codebook };
    }

    static int[]? ParseRanks(string? text) =>
        text?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(r => int.TryParse(r, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) && k >= 1 ? k
                : throw new ConfigurationException($"--ranks '{text}' is invalid; a comma-separated list of ranks ≥ 1 is accepted.")).ToArray();

    static void Execute(ConsoleOutput ctx, string runDir, int imageCount, int? seed, int? clusterSize, int[]? ranks, string? arm, string output,
        IReadOnlyList<string> pluginFolders)
    {
        var config = Path.Combine(runDir, RunLayout.ConfigFile);
        if (!File.Exists(config)) throw new ConfigurationException($"--run {runDir} is not a run folder: it has no {RunLayout.ConfigFile}.");
        var experiment = ExperimentLoader.Load(config);
        var spec = experiment.Spec;
        var t = spec.Tokenizer;
        var catalog = PluginCatalog.ForCommand(pluginFolders, spec.Plugins);
        var (tokenizer, weights) = ArmModels.RunTokenizer(runDir, spec, catalog);
        tokenizer.Module.eval();
        int v = tokenizer.Info.VocabularySize;

        var settings = GeneratorJob.ReferenceSettings(experiment) with { Enabled = true };
        if (clusterSize is int m) settings = settings with { ClusterSize = m, Clusters = null };
        var tokensFile = Path.Combine(runDir, RunLayout.TokensFile("train"));
        var live = File.Exists(tokensFile) ? LiveCodes.OfCacheFile(tokensFile, v) : null;
        int clusteringSeed = seed ?? spec.EffectiveSeeds[0];
        RearrangementPlan plan;
        using (var codebook = tokenizer.Codebook)
            plan = CodebookRearrangement.Plan(settings, codebook, (ulong)clusteringSeed, $"the codebook of {weights}", live);
        int[] clusterOfCode;
        using (var clusters = plan.ClusterOfOriginalIndex()) clusterOfCode = clusters.data<long>().Select(c => (int)c).ToArray();

        using var data = DatasetLoader.Load(spec.Data);
        var keep = DatasetLoader.EvenlySpaced(data.Test.Count, imageCount);
        using var indices = torch.tensor(keep.Select(i => (long)i).ToArray());
        using var pixels = data.Test.Images(indices);
        var rows = CodeDistanceAnalysis.Run(tokenizer, pixels, clusterOfCode, ranks ?? CodeDistanceAnalysis.DefaultRanks(v), (ulong)clusteringSeed);

        var described =
            FormattableString.Invariant($"{t.Plugin}/{t.Preset} tokenizer of {runDir} (V = {v}, {tokenizer.Info.Layout}), {keep.Length} held-out images\n\n") +
            FormattableString.Invariant($"Clusters: {SpecSchema.EnumValue(plan.Stats.Method)} into {plan.Layout}, seed {clusteringSeed}") +
            (plan.Stats.Health is { } h ? $"; {h} (dead codes {SpecSchema.EnumValue(settings.DeadCodes)})" : "; no token cache, every code counted live") + ".\n" +
            "Every token of every image (every scale of a multi-scale tokenizer) is replaced; MSE and PSNR compare the decoded images with the " +
            "reconstruction from the true tokens (pixels in [0, 1]). Code distance: squared Euclidean distance of the vectors the decoder consumes.";
        var written = CodeDistanceReport.Write(output, rows,
            FormattableString.Invariant($"{t.Plugin}/{t.Preset}, V = {v}: decoded images vs code distance ({keep.Length} held-out images)"), described);
        ctx.Plain.WriteLine(described);
        ctx.Plain.WriteLine();
        ctx.Plain.Write(CodeDistanceReport.Markdown(rows));
        foreach (var path in written) ctx.Plain.WriteLine($"wrote {path}");
        tokenizer.Module.Dispose();
        if (arm is not null) ProbeSampledTokens(ctx, runDir, arm, clusteringSeed, clusterOfCode, imageCount, output, pluginFolders);
    }

    /// <summary>
    /// <see cref="SampledTokenProbe"/> on the arm's generator over the held-out token cache (the same evenly spaced
    /// images); writes <c>sampled-token-probe.md</c>.
    /// </summary>
    static void ProbeSampledTokens(ConsoleOutput ctx, string runDir, string arm, int seed, int[] clusterOfCode, int imageCount, string output,
        IReadOnlyList<string> pluginFolders)
    {
        var models = SamplingModels.FromRun(runDir, arm, seed, pluginFolders, torch.CPU);
        var permutation = (models.Tokenizer as RearrangedTokenizer)?.Permutation;
        using var scope = torch.NewDisposeScope();
        // An IAR arm is measured against the clusters it trained with (its permutation file's blocks), a baseline
        // against the reference clusters of the code-distance table.
        var armFile = Path.Combine(runDir, RunLayout.ArmsFolder, arm, $"seed-{seed}", RunLayout.PermutationFile);
        var layout = File.Exists(armFile) ? CodebookPermutation.Load(armFile).Layout : null;
        var reference = torch.tensor(clusterOfCode.Select(c => (long)c).ToArray());                     // [V], original numbering
        var clusters = permutation is null ? reference                                                  // [V], the generator's numbering
            : layout?.ClusterOfIndex() ?? permutation.Rearrange(reference);
        var path = Path.Combine(runDir, RunLayout.TokensFile("test"));
        if (!File.Exists(path)) throw new ConfigurationException($"{path} does not exist; the run's prepare step has not finished.");
        using var cache = TokenCache.Open(path, SafeTensorsFile.Open(path).Metadata.GetValueOrDefault(TokenCache.Keys.Tokenizer, ""), dataFingerprint: null);
        var keep = DatasetLoader.EvenlySpaced(cache.Count, imageCount);
        var batch = cache.Gather(torch.tensor(keep.Select(i => (long)i).ToArray()));
        var tokens = permutation is null ? batch.Tokens : permutation.ToNew(batch.Tokens);
        var probe = new SampledTokenProbe(clusters, models.Sampling.Temperature, (ulong)seed);
        var results = TokenMetricsEvaluator.Evaluate(models.Generator, new HeldOutTokens(tokens, batch.Labels), models.BatchSize, probe);
        var text = new System.Text.StringBuilder(FormattableString.Invariant(
            $"# Sampled-token probe\n\n{models.Described}, {keep.Length} held-out sequences, temperature {models.Sampling.Temperature}, teacher-forced, ") +
            "conditional logits without guidance; clusters: " +
            (layout is not null && permutation is not null ? "the arm's own clusters" : "the clusters of code-distance.md") +
            ".\n\n| metric | value |\n|---|---:|\n");
        foreach (var (name, value) in results) text.Append(FormattableString.Invariant($"| {name} | {value:F4} |\n"));
        var file = Path.Combine(output, "sampled-token-probe.md");
        AtomicFile.WriteAllText(file, text.ToString());
        ctx.Plain.Write(text.ToString());
        ctx.Plain.WriteLine($"wrote {file}");
        models.Generator.Module.Dispose();
        models.Tokenizer.Module.Dispose();
    }
}
