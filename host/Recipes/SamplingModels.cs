using IAR.Host.Runs;
using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Host.Plugins;
using IAR.Host.Serialization;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Recipes;

/// <summary>Plugin, preset, options and weights of one model to sample with (<c>iar sample</c> without a run folder).</summary>
/// <param name="Checkpoint">safetensors or PyTorch .pt/.pth; null keeps the fresh weights.</param>
public sealed record ModelCheckpoint(string Plugin, string Preset, IReadOnlyDictionary<string, string> Options, string? Checkpoint);

/// <summary>
/// A generator and the tokenizer that decodes its tokens, ready to sample, with the defaults of where they came from:
/// a run folder's arm (its resolved config's sampling and evaluation sections, so that the run's own grid comes out
/// again), or checkpoints (official or converted) with plugin presets.
/// </summary>
public sealed class SamplingModels
{
    readonly Func<Tensor>? clusterMap;

    SamplingModels(IGenerator generator, ITokenizer tokenizer, SamplingSpec sampling, int gridPerClass, int batchSize, int seed, string described,
        Func<Tensor>? clusterMap, Precision precision = Precision.Fp32)
    {
        this.clusterMap = clusterMap;
        Precision = precision;
        Generator = generator;
        Tokenizer = tokenizer;
        Sampling = sampling;
        GridPerClass = gridPerClass;
        BatchSize = batchSize;
        Seed = seed;
        Described = described;
    }

    public IGenerator Generator { get; }

    public ITokenizer Tokenizer { get; }

    /// <summary>The sampling section the defaults come from (the arm's, or the spec's defaults).</summary>
    public SamplingSpec Sampling { get; }

    /// <summary>Images per class of the grid (the arm's <c>evaluation.grid_per_class</c>, else 8).</summary>
    public int GridPerClass { get; }

    public int BatchSize { get; }

    /// <summary>The run seed whose arm folder was loaded (0 for checkpoints).</summary>
    public int Seed { get; }

    public string Described { get; }

    /// <summary>The precision the run trained and evaluated in (<c>training.precision</c>; fp32 for checkpoints).</summary>
    public Precision Precision { get; }

    public int NumClasses => Generator.Info.NumClasses;

    /// <summary>
    /// int64 [V]: the cluster of every token in the generator's numbering, for cluster-aware sampling — a run's reference
    /// clustering (balanced k-means with its top-level iar settings, seeded by the run seed, as its evaluation used), or
    /// balanced k-means into clusters of <c>--cluster-size</c> for checkpoints; computed on first use.
    /// </summary>
    /// <exception cref="ConfigurationException">Checkpoints without a cluster size.</exception>
    public Tensor ClusterOfToken() => (clusterMap ?? throw new ConfigurationException(
        "cluster-aware sampling of checkpoints needs --cluster-size M (codes per cluster of the balanced k-means over the tokenizer's codebook)."))();

    /// <summary>
    /// Balanced k-means with <paramref name="settings"/> over <paramref name="original"/>'s codebook (original numbering),
    /// seeded, as the run's rearrange step does; then read in the generator's numbering through <paramref name="permutation"/>.
    /// </summary>
    static Func<Tensor> ReferenceClusters(IarSpec settings, ITokenizer original, CodebookPermutation? permutation, int seed)
    {
        Tensor? cached = null;
        return () =>
        {
            if (cached is not null) return cached;
            using var codebook = original.Codebook.detach().cpu();
            var plan = CodebookRearrangement.Plan(settings with { Enabled = true }, codebook, (ulong)seed,
                $"the codebook of tokenizer {original.Info.Plugin}/{original.Info.Preset}");
            using var ofOriginal = plan.ClusterOfOriginalIndex();                                     // [V], original numbering
            cached = permutation is null ? ofOriginal.clone() : ofOriginal.index_select(0, permutation.NewToOldTensor());
            cached.DetachFromDisposeScope();
            return cached;
        };
    }

    /// <summary>
    /// The generator of runs/…/arms/&lt;arm&gt;/seed-&lt;seed&gt;/ with the run's tokenizer (rearranged by the arm's
    /// permutation.safetensors when the arm has one): what the run's own evaluation sampled with.
    /// </summary>
    /// <param name="arm">Null when the run has exactly one arm.</param>
    /// <param name="seed">Null picks the only seed folder of the arm, or the smallest.</param>
    /// <exception cref="ConfigurationException">The folder is not a finished run, or the arm or seed does not exist (the ones that do are named).</exception>
    public static SamplingModels FromRun(string runDirectory, string? arm, int? seed, IReadOnlyList<string> pluginFolders, Device device)
    {
        var config = Path.Combine(runDirectory, RunLayout.ConfigFile);
        if (!File.Exists(config))
            throw new ConfigurationException($"{runDirectory} is not a run folder: it has no {RunLayout.ConfigFile}.");
        var experiment = ExperimentLoader.Load(config);
        var names = experiment.Arms.Select(a => a.Name).ToList();
        var plan = arm is null
            ? experiment.Arms.Count == 1 ? experiment.Arms[0]
                : throw new ConfigurationException($"{runDirectory} has arms {string.Join(", ", names)}; choose one with --arm.")
            : experiment.Arms.FirstOrDefault(a => a.Name == arm)
                ?? throw new ConfigurationException($"--arm '{arm}' is not an arm of {runDirectory}; its arms: {string.Join(", ", names)}.");
        var armFolder = Path.Combine(runDirectory, RunLayout.ArmsFolder, plan.Name);
        var seeds = Directory.Exists(armFolder)
            ? Directory.GetDirectories(armFolder, "seed-*").Select(d => Path.GetFileName(d)["seed-".Length..])
                .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (int?)null)
                .Where(v => v is not null).Select(v => v!.Value).Order().ToList()
            : [];
        int chosen = seed ?? (seeds.Count > 0 ? seeds[0]
            : throw new ConfigurationException($"{armFolder} has no seed-N folders; the arm was not trained in this run."));
        var folder = Path.Combine(armFolder, $"seed-{chosen}");
        var weights = Path.Combine(folder, RunLayout.GeneratorWeightsFile);
        if (!File.Exists(weights))
            throw new ConfigurationException($"{weights} does not exist; the arm's seed {chosen} has not finished training (seeds present: {string.Join(", ", seeds)}).");

        var spec = plan.Spec;
        var catalog = PluginCatalog.ForCommand(pluginFolders, spec.Plugins);
        var (tokenizer, _) = ArmModels.RunTokenizer(runDirectory, spec, catalog);
        var permutationFile = Path.Combine(folder, RunLayout.PermutationFile);
        var original = tokenizer;
        var permutation = File.Exists(permutationFile) ? CodebookPermutation.Load(permutationFile, tokenizer.Info.VocabularySize).Permutation : null;
        tokenizer = ArmModels.InArmNumbering(tokenizer, permutation);
        var generator = ArmModels.Generator(spec, tokenizer, RunClasses(runDirectory), catalog);
        StateDict.Load(generator.Module, weights, $"generator {spec.Generator.Plugin}/{spec.Generator.Preset}");
        if (spec.Threads > 0) torch.set_num_threads(spec.Threads);
        tokenizer.Module.to(device);
        generator.Module.to(device);
        return new SamplingModels(generator, tokenizer, spec.Sampling, spec.Evaluation.GridPerClass > 0 ? spec.Evaluation.GridPerClass : 8,
            spec.Evaluation.BatchSize, chosen, $"{runDirectory} arm {plan.Name} seed {chosen}",
            ReferenceClusters(Recipes.GeneratorJob.ReferenceSettings(experiment), original, permutation, chosen),
            PrecisionChoice.Resolve(spec.Training.Precision, device.type, CpuMatrixUnits.Current).Precision);
    }

    /// <summary>A generator and tokenizer from plugin presets and checkpoint files (safetensors or PyTorch).</summary>
    /// <param name="permutation">The permutation the generator's vocabulary follows (safetensors, or IAR's mapping-*.pt);
    /// the tokenizer checkpoint is in the original numbering, or was saved rearranged by this permutation.</param>
    /// <param name="clusterSize">m of the balanced k-means that cluster-aware sampling draws clusters of; null: not available.</param>
    public static SamplingModels FromCheckpoints(ModelCheckpoint generatorCheckpoint, ModelCheckpoint tokenizerCheckpoint, string? permutation,
        ImageShape image, int classes, IReadOnlyList<string> pluginFolders, Device device, int? clusterSize = null)
    {
        var catalog = PluginCatalog.ForCommand(pluginFolders, null);
        var t = tokenizerCheckpoint;
        var tokenizer = catalog.TokenizerFactory(t.Plugin, t.Preset).Create(new TokenizerRequest(t.Preset, t.Options, image));
        var recorded = CodebookPermutation.IdentityHash;
        if (t.Checkpoint is not null)
            recorded = CodebookPermutation.RecordedHash(StateDict.Load(tokenizer.Module, t.Checkpoint, $"tokenizer {t.Plugin}/{t.Preset}"));
        var original = tokenizer;
        CodebookPermutation? applied = null;
        if (permutation is not null)
        {
            var p = CodebookPermutation.Load(permutation, tokenizer.Info.VocabularySize).Permutation;
            applied = p;
            if (recorded != CodebookPermutation.IdentityHash)
            {
                p.RequireRecordedIn(new Dictionary<string, string> { [CodebookPermutation.MetadataKey] = recorded }, t.Checkpoint!);
                VocabularyRearrangement.Restore(tokenizer.VocabularyParameters, p);
            }
            tokenizer = new RearrangedTokenizer(tokenizer, p);
        }
        var g = generatorCheckpoint;
        var generator = catalog.GeneratorFactory(g.Plugin, g.Preset).Create(new GeneratorRequest(g.Preset, g.Options, tokenizer, classes));
        if (g.Checkpoint is not null) StateDict.Load(generator.Module, g.Checkpoint, $"generator {g.Plugin}/{g.Preset}");
        tokenizer.Module.to(device);
        generator.Module.to(device);
        return new SamplingModels(generator, tokenizer, new SamplingSpec(), 8, 64, 0,
            $"{g.Plugin}/{g.Preset} ({g.Checkpoint ?? "fresh weights"}) with {t.Plugin}/{t.Preset} ({t.Checkpoint ?? "fresh weights"})",
            clusterSize is int m ? ReferenceClusters(new IarSpec { ClusterSize = m, Clusters = null }, original, applied, 0) : null);
    }

    /// <summary>The class count recorded in the run's token cache.</summary>
    static int RunClasses(string runDirectory)
    {
        var cache = Path.Combine(runDirectory, RunLayout.TokensFile("train"));
        if (!File.Exists(cache)) throw new ConfigurationException($"{cache} does not exist; the run has not tokenized its data.");
        var metadata = SafeTensorsFile.Open(cache).Metadata;
        return metadata.TryGetValue(Data.TokenCache.Keys.NumClasses, out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k)
            ? k : throw new InvalidDataException($"{cache} does not record {Data.TokenCache.Keys.NumClasses}.");
    }
}
