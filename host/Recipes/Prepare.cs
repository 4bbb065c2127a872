using IAR.Host.Plugins;
using IAR.Host.Runs;
using System.Diagnostics;
using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Host.Training;
using TorchSharp;

namespace IAR.Host.Recipes;

/// <summary>
/// What every job of a run shares, made once by <see cref="Prepare"/>: the images, the tokenizer in its own numbering
/// (eval mode), the token caches, and the evaluation resources (null when no arm asks for an image metric).
/// </summary>
/// <param name="TokenizerHash">The tokenizer's content hash (<see cref="ModelFingerprint"/>), recorded in every checkpoint.</param>
public sealed record PreparedRun(
    DatasetSplits Data, ITokenizer Tokenizer, string TokenizerHash, TokenCache TrainTokens, TokenCache HeldOutTokens,
    EvaluationResources? Evaluation) : IDisposable
{
    public void Dispose()
    {
        Evaluation?.Dispose();
        TrainTokens.Dispose();
        HeldOutTokens.Dispose();
        Tokenizer.Module.Dispose();
        Data.Dispose();
    }
}

/// <summary>
/// The first step of a run: data → tokenizer (train or load) → token cache → evaluation resources. Its products are
/// files of the run folder (<c>tokenizer.safetensors</c>, <c>tokens/</c>, <c>evaluation/</c>, and the extractor cache
/// beside the run folders); when they exist they are loaded, an unfinished tokenizer resumes from its checkpoint.
/// </summary>
public static class Prepare
{
    /// <summary>Held-out images the tokenizer's quality report encodes and decodes (evenly spaced).</summary>
    public const int QualityImages = 2000;

    public static PreparedRun Run(Experiment experiment, RunEnvironment env)
    {
        var spec = experiment.Spec;
        var data = LoadData(spec.Data, env);
        try
        {
            var (tokenizer, hash) = Tokenizer(spec, data, env);
            var train = spec.Data.Source == DataSource.LlamagenCodes
                ? ImportedCodes(tokenizer, hash, data.Train.NumClasses, spec.Data, env)
                : TokenCacheOf("train", tokenizer, hash, data.Train, spec.Data.Flip, spec, env);
            var heldOut = TokenCacheOf("test", tokenizer, hash, data.Test, withFlips: false, spec, env);
            var evaluation = EvaluationResourcesFor(experiment, data, env);
            return new PreparedRun(data, tokenizer, hash, train, heldOut, evaluation);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    static DatasetSplits LoadData(DataSpec spec, RunEnvironment env)
    {
        var splits = DatasetLoader.Load(spec);
        env.Log.Info($"   train: {splits.Train.Description}");
        env.Log.Info($"   held-out: {splits.Test.Description}");
        env.Log.Info($"   {splits.Train.NumClasses} classes: {string.Join(", ", splits.Train.ClassNames.Take(10))}{(splits.Train.NumClasses > 10 ? ", …" : "")}");
        return splits;
    }

    /// <summary>
    /// The tokenizer through its plugin (seeded right before the factory, the rule plugins rely on), then
    /// <c>tokenizer.checkpoint</c> loaded or <c>tokenizer.training</c> run; its held-out PSNR and codebook usage logged.
    /// </summary>
    static (ITokenizer Tokenizer, string Hash) Tokenizer(ExperimentSpec spec, DatasetSplits data, RunEnvironment env)
    {
        var t = spec.Tokenizer;
        torch.manual_seed(spec.Seed);
        var tokenizer = ArmModels.Tokenizer(spec, env.Catalog);
        var label = $"tokenizer {t.Plugin}/{t.Preset}";
        if (tokenizer.Info.Image != data.Train.Shape)
            throw new ConfigurationException(
                $"{label} was built for {tokenizer.Info.Image} images but the data gives {data.Train.Shape}; set data.image_size and data.channels to what it accepts.");
        tokenizer.Module.to(env.Device);

        if (t.Checkpoint is not null)
        {
            StateDict.Load(tokenizer.Module, t.Checkpoint, label);
            env.Log.Info($"   loaded {t.Checkpoint}");
        }
        else
        {
            var trainer = new Trainer(new TrainerSettings
            {
                Training = t.Training,
                Seed = spec.Seed,
                Folder = env.Run.File(RunLayout.TokenizerFolder),
                WeightsFile = env.Run.File(RunLayout.TokenizerWeightsFile),
                Config = TrainingConfigText.ForTokenizer(spec, data.Train.Fingerprint),
                Tags = new Dictionary<string, object> { ["stage"] = "tokenizer", ["seed"] = spec.Seed },
                Label = label,
                Device = env.Device,
                Metrics = env.Metrics,
                Log = env.Log,
                Cancellation = env.Cancellation,
            });
            trainer.Run(new TokenizerObjective(tokenizer, data.Train, spec.Data.Flip, env.Device));
        }
        tokenizer.Module.eval();
        var hash = ModelFingerprint.Of(tokenizer);

        // Measured once per run; later processes (workers, --job, array tasks) load it.
        var qualityFile = env.Run.File(RunLayout.TokenizerQualityFile);
        var qualityKey = TokenizerQuality.Fingerprint(hash, data.Test.Fingerprint, QualityImages, t.Training.BatchSize);
        var cachedQuality = TokenizerQuality.Load(qualityFile, qualityKey);
        var quality = cachedQuality ?? TokenizerQuality.Measure(tokenizer, data.Test, QualityImages, t.Training.BatchSize, env.Device);
        if (cachedQuality is null) quality.Save(qualityFile, qualityKey);
        env.Log.Info(
            $"   {label} ({hash}): held-out PSNR {quality.Psnr:F2} dB on {quality.Images} images, " +
            $"codebook usage {quality.CodebookUsage:P1} ({quality.UsedCodes} of {quality.VocabularySize})" +
            (cachedQuality is null ? "" : $" (loaded from {RunLayout.TokenizerQualityFile})"));
        env.Metrics.RemoveWhere(r => r.TryGetProperty("stage", out var s) && s.GetString() == "tokenizer" && r.TryGetProperty("psnr", out _));
        env.Metrics.Append(new Dictionary<string, object?>
        {
            ["stage"] = "tokenizer", ["seed"] = spec.Seed, ["step"] = t.Checkpoint is null ? t.Training.Steps : 0,
            ["psnr"] = quality.Psnr, ["codebook_usage"] = quality.CodebookUsage, ["used_codes"] = quality.UsedCodes,
        });
        return (tokenizer, hash);
    }

    /// <summary>
    /// <c>tokens/&lt;split&gt;.safetensors</c>, encoded once and shared by every arm and seed. A cache written by another
    /// tokenizer or from other images is refused, not rebuilt: it can only exist if the tokenizer checkpoint or the
    /// data changed under a run, and then the run's generator checkpoints are stale too (<c>--fresh</c>).
    /// </summary>
    static TokenCache TokenCacheOf(string split, ITokenizer tokenizer, string hash, ImageDataset images, bool withFlips,
        ExperimentSpec spec, RunEnvironment env)
    {
        var path = env.Run.File(RunLayout.TokensFile(split));
        if (!File.Exists(path))
        {
            var watch = Stopwatch.StartNew();
            int lastTenth = 0;
            TokenCacheWriter.Write(path, tokenizer, hash, images, withFlips, spec.Tokenizer.Training.BatchSize, env.Device, env.Cancellation,
                (done, total) =>
                {
                    int tenth = (int)(10L * done / total);
                    if (tenth > lastTenth && tenth < 10) env.Log.FileOnly($"   {split}: {done}/{total} images encoded");
                    lastTenth = tenth;
                });
            env.Log.Info($"   {split}: encoded {images.Count} images{(withFlips ? " (and their mirror images)" : "")} in {watch.Elapsed.TotalSeconds:F1} s");
        }
        var cache = TokenCache.Open(path, hash, images.Fingerprint);
        env.Log.Info(
            $"   {split}: {cache.Count} images × {cache.Variants} × {cache.SequenceLength} tokens, V = {cache.VocabularySize}, " +
            $"{new FileInfo(path).Length / 1024.0:F0} KiB{(cache.IsMemoryMapped ? " (memory-mapped)" : "")}: {path}");
        return cache;
    }

    /// <summary>
    /// <c>tokens/train.safetensors</c> read from LlamaGen's extracted codes at <c>data.path</c> (all augmentations of both
    /// crop copies, <see cref="LlamaGenCodeImport"/>), once; refused, as an encoded cache is, when the code files changed since.
    /// </summary>
    static TokenCache ImportedCodes(ITokenizer tokenizer, string hash, int numClasses, DataSpec data, RunEnvironment env)
    {
        var path = env.Run.File(RunLayout.TokensFile("train"));
        var copies = LlamaGenCodeImport.Copies(data.Path!, data.ImageSize);
        if (!File.Exists(path))
        {
            var watch = Stopwatch.StartNew();
            LlamaGenCodeImport.Write(path, copies, tokenizer.Info, hash, numClasses, env.Cancellation);
            env.Log.Info($"   train: read LlamaGen codes from {string.Join(" and ", copies.Select(c => c.Codes))} in {watch.Elapsed.TotalSeconds:F1} s");
        }
        var cache = TokenCache.Open(path, hash, LlamaGenCodeImport.Fingerprint(copies));
        env.Log.Info(
            $"   train: {cache.Count} images × {cache.Variants} augmentations × {cache.SequenceLength} tokens, V = {cache.VocabularySize}, " +
            $"{new FileInfo(path).Length / 1024.0:F0} KiB{(cache.IsMemoryMapped ? " (memory-mapped)" : "")}: {path}");
        return cache;
    }

    /// <summary>
    /// The feature extractor (<c>evaluation.feature_extractor</c>, or the small CNN trained on the training images once
    /// and cached beside the run folders) and the reference features, computed once per run and loaded from
    /// <c>evaluation/reference.safetensors</c> by later processes; <c>evaluation/feature_extractor.json</c> for the
    /// report. Null when no arm asks for an image metric.
    /// </summary>
    static EvaluationResources? EvaluationResourcesFor(Experiment experiment, DatasetSplits data, RunEnvironment env)
    {
        if (!experiment.Arms.Any(a => a.Spec.Evaluation.Metrics.Any(m => m != ImageMetric.TokenMetrics)))
        {
            env.Log.Info("   no image metrics asked for: no feature extractor needed");
            return null;
        }
        using var train = LabelledImages.All(data.Train);
        using var test = LabelledImages.All(data.Test);
        var runsRoot = Path.GetDirectoryName(Path.GetFullPath(env.Run.Path)) ?? ".";
        // The noise floor at every arm's FID sample count, so each arm's FID is judged against the floor at its own N.
        var floorCounts = experiment.Arms.Where(a => a.Spec.Evaluation.Metrics.Contains(ImageMetric.Fid))
            .Select(a => a.Spec.Evaluation.NumSamples).Distinct().ToArray();
        var resources = EvaluationResources.Prepare(experiment.Spec.Evaluation, train, test, data.Train.NumClasses,
            Path.Combine(runsRoot, RunLayout.FeatureExtractorCacheFolder), experiment.Spec.Seed, message => env.Log.Info("   " + message), floorCounts,
            new EvaluationResourcesCache(env.Run.File(RunLayout.EvaluationResourcesCache), $"{data.Train.Fingerprint}+{data.Test.Fingerprint}"));
        resources.WriteSummary(env.Run.Path);
        return resources;
    }
}
