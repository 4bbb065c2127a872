using IAR.Host.Experiments;

namespace IAR.Host.Runs;

/// <summary>
/// Every path of a run folder, relative to it: the one place that names them. Steps, commands and the report ask
/// here and nowhere else.
/// <code>
/// runs/NNN-&lt;name&gt;/
///   config.yaml  status.json  run.log  metrics.jsonl  .lock     the run (run.worker-N.log, run.job-….log per process)
///   tokenizer.safetensors  tokenizer/checkpoints/                prepare: the tokenizer
///   tokens/{train,test}.safetensors                              prepare: the token cache
///   tokenizer/quality.json                                       prepare: the tokenizer's held-out quality (cached)
///   evaluation/{feature_extractor.json,noise_floor.json}         prepare: evaluation resources for the report
///   evaluation/reference.safetensors                             prepare: reference features, real IS, floors (cached)
///   arms/&lt;arm&gt;/seed-&lt;s&gt;/                                         a job: permutation.safetensors, checkpoints/,
///                                                                generator.safetensors, metrics.jsonl, status.json, .lock
///   samples/&lt;arm&gt;/seed-&lt;s&gt;/{grid.png,samples.npz}               a job's final samples
///   report.md  report.html  report/*.png                         the report
///   tensorboard/  slurm/  analysis/                              event files, sbatch scripts, iar analyze
/// runs/.cache/feature-extractors/                                trained feature extractors, shared by runs
/// </code>
/// </summary>
public static class RunLayout
{
    public const string ConfigFile = "config.yaml";
    public const string StatusFile = "status.json";
    public const string LogFile = "run.log";
    public const string MetricsFile = "metrics.jsonl";
    public const string LockFile = ".lock";

    public const string TokenizerWeightsFile = "tokenizer.safetensors";

    /// <summary>The tokenizer's training folder (its checkpoints).</summary>
    public const string TokenizerFolder = "tokenizer";

    /// <summary>A trainer's checkpoints, inside the folder it trains in (the tokenizer's or a job's).</summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>The token cache of a split (<c>train</c>, <c>test</c>).</summary>
    public static string TokensFile(string split) => Path.Combine("tokens", $"{split}.safetensors");

    /// <summary>Description, dimension and test accuracy of the run's feature extractor.</summary>
    public const string FeatureExtractorSummary = "evaluation/feature_extractor.json";

    /// <summary>The FID of real held-out images against the reference at each evaluation sample count.</summary>
    public const string NoiseFloor = "evaluation/noise_floor.json";

    /// <summary>
    /// The evaluation resources computed once per run (reference features, real-image Inception Score, noise floors)
    /// with a fingerprint of their inputs, loaded by every later process of the run.
    /// </summary>
    public const string EvaluationResourcesCache = "evaluation/reference.safetensors";

    /// <summary>The tokenizer's held-out PSNR and codebook usage with a fingerprint of the tokenizer and images, loaded by every later process.</summary>
    public const string TokenizerQualityFile = "tokenizer/quality.json";

    /// <summary>Trained feature extractors, relative to the folder that holds the run folders (shared by runs).</summary>
    public const string FeatureExtractorCacheFolder = ".cache/feature-extractors";

    public const string ArmsFolder = "arms";

    /// <summary>The permutation of an IAR job's vocabulary, in its folder (<see cref="JobId.Folder"/>).</summary>
    public const string PermutationFile = "permutation.safetensors";

    /// <summary>A job's final generator weights, in its folder.</summary>
    public const string GeneratorWeightsFile = "generator.safetensors";

    public const string SamplesFolder = "samples";

    /// <summary>samples/&lt;arm&gt;/seed-&lt;seed&gt;/.</summary>
    public static string SampleFolder(string arm, int seed) => Path.Combine(SamplesFolder, arm, $"seed-{seed}");

    /// <summary>The class-by-row PNG grid of an arm and seed.</summary>
    public static string GridFile(string arm, int seed) => Path.Combine(SampleFolder(arm, seed), "grid.png");

    /// <summary>The ADM-evaluator archive of an arm and seed's final samples.</summary>
    public static string NpzFile(string arm, int seed) => Path.Combine(SampleFolder(arm, seed), "samples.npz");

    public const string ReportMarkdownFile = "report.md";
    public const string ReportHtmlFile = "report.html";
    public const string ReportPlotsFolder = "report";

    public const string TensorBoardFolder = "tensorboard";
    public const string SlurmFolder = "slurm";
    public const string AnalysisFolder = "analysis";

    /// <summary>The log of local worker <paramref name="id"/> (<c>--workers N</c>).</summary>
    public static string WorkerLog(int id) => $"run.worker-{id}.log";
}

/// <summary>
/// A job: one arm trained with one seed, the unit that runs in this process, in another one or on another machine.
/// Its id (<c>baseline/0</c>) is stable, and its products live in <see cref="Folder"/> of the run folder.
/// </summary>
public readonly record struct JobId(string Arm, int Seed)
{
    /// <summary><c>arms/&lt;arm&gt;/seed-&lt;seed&gt;</c>, relative to the run folder.</summary>
    public string Folder => Path.Combine(RunLayout.ArmsFolder, Arm, $"seed-{Seed}");

    /// <summary>A file of the job's folder, relative to the run folder.</summary>
    public string File(string name) => Path.Combine(Folder, name);

    public override string ToString() => $"{Arm}/{Seed}";

    /// <summary>Every arm × seed of <paramref name="experiment"/>, arms in file order.</summary>
    public static IReadOnlyList<JobId> All(Experiment experiment) =>
        experiment.Arms.SelectMany(arm => arm.Spec.EffectiveSeeds.Select(seed => new JobId(arm.Name, seed))).ToArray();
}
