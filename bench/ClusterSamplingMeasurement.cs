using IAR.Host.Recipes;
using IAR.Host.Runs;
using System.Diagnostics;
using System.Globalization;
using IAR.Host.Data;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using TorchSharp;

namespace IAR.Bench;

/// <summary>
/// FID of cluster-aware vs plain sampling on every trained arm and seed of a finished run, with the run's own extractor,
/// reference and sample count, over several sampling seeds; and the run's FID noise floor at that count. Not a speed
/// benchmark: a measurement over a run folder, which this harness only reads.
/// <c>IAR_RUN=runs/NNN-name [IAR_SAMPLING_SEEDS=0,1,2] [IAR_PLUGINS=DIR] [IAR_OUT=DIR] dotnet run -c Release --project bench -- cluster-sampling</c>.
/// Sampling seed s draws from the stream 7 919 000 + s, so run seed 0 with s = 0 repeats the run's own final evaluation.
/// IAR_OUT receives noise_floor.json (to put beside a copy of the run for <c>iar report</c>).
/// The cluster stage uses the arm's <c>sampling.cluster_*</c> settings, or IAR_CLUSTER_TEMPERATURE / IAR_CLUSTER_TOP_K /
/// IAR_CLUSTER_TOP_P: with the defaults (temperature 1, no filtering) p(c)·p(t | c) = p(t), so cluster-aware sampling is
/// plain sampling and only a sharper or filtered cluster stage can differ. IAR_PLAIN_ARMS=a,b and IAR_CLUSTER_ARMS=a,b
/// limit the plain and the cluster-aware runs to those arms (e.g. to skip ones already measured). Controls: IAR_RANDOM_CLUSTERS=1 shuffles the token → cluster map (seeded; the
/// same cluster sizes, no semantics), IAR_PLAIN_TEMPERATURE sets the plain runs' temperature (sharpening alone).
/// </summary>
public sealed class ClusterSamplingMeasurement : IBenchmark
{
    public string Name => "cluster-sampling";

    public string Description => "FID of cluster-aware vs plain sampling on a finished run's arms (IAR_RUN=DIR), and its FID noise floor.";

    public void Run(BenchReport report)
    {
        var run = Environment.GetEnvironmentVariable("IAR_RUN")
            ?? throw new InvalidOperationException("Set IAR_RUN to a finished run folder (runs/NNN-name).");
        var seeds = (Environment.GetEnvironmentVariable("IAR_SAMPLING_SEEDS") ?? "0,1,2").Split(',')
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        // The built-in plugins (copied beside the bench) are always loaded; IAR_PLUGINS adds a folder of others.
        string[] plugins = Environment.GetEnvironmentVariable("IAR_PLUGINS") is { } extra ? [extra] : [];
        var experiment = ExperimentLoader.Load(Path.Combine(run, RunLayout.ConfigFile));
        var spec = experiment.Spec;
        using var splits = DatasetLoader.Load(spec.Data);
        using var train = LabelledImages.All(splits.Train);
        using var test = LabelledImages.All(splits.Test);
        int n = spec.Evaluation.NumSamples;
        var cache = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(run))!, RunLayout.FeatureExtractorCacheFolder);
        IFeatureExtractor extractor = spec.Evaluation.FeatureExtractor is { } path
            ? FeatureExtractorCheckpoint.Load(path)
            : FeatureExtractorTrainer.LoadOrTrain(cache, train, test, splits.Train.NumClasses,
                new FeatureExtractorTrainingOptions(spec.Evaluation.FeatureExtractorSteps, Seed: spec.Seed), Console.WriteLine);
        using var resources = EvaluationResources.Create(extractor, spec.Evaluation, train, test, spec.Seed, Console.WriteLine, [n]);
        var floor = resources.NoiseFloors.At(n)!;
        var context = new Dictionary<string, object> { ["run"] = Path.GetFullPath(run), ["num_samples"] = n, ["threads"] = torch.get_num_threads() };
        report.Add("FID noise floor (real held-out)", floor.Fids, "fid", context);
        if (Environment.GetEnvironmentVariable("IAR_OUT") is { } output)
        {
            Directory.CreateDirectory(output);
            resources.NoiseFloors.Write(Path.Combine(output, "noise_floor.json"));
        }

        static string? Setting(string name) => Environment.GetEnvironmentVariable(name);
        var plainArms = Setting("IAR_PLAIN_ARMS")?.Split(',');
        var clusterArms = Setting("IAR_CLUSTER_ARMS")?.Split(',');
        var metrics = new[] { ImageMetric.Fid, ImageMetric.ClassAccuracy };
        var scorer = new ImageMetricsEvaluator(resources.Extractor, resources.Reference, metrics, batchSize: spec.Evaluation.BatchSize);
        foreach (var arm in experiment.Arms)
        {
            var armFolder = Path.Combine(run, RunLayout.ArmsFolder, arm.Name);
            if (!Directory.Exists(armFolder)) continue;
            foreach (var runSeed in arm.Spec.EffectiveSeeds.Where(s => File.Exists(Path.Combine(armFolder, $"seed-{s}", RunLayout.GeneratorWeightsFile))))
            {
                var models = SamplingModels.FromRun(run, arm.Name, runSeed, plugins, torch.CPU);
                foreach (bool clusterAware in new[] { false, true })
                {
                    if ((clusterAware ? clusterArms : plainArms) is { } only && !only.Contains(arm.Name)) continue;
                    var sampling = arm.Spec.Sampling with
                    {
                        ClusterAware = clusterAware,
                        ClusterTemperature = Setting("IAR_CLUSTER_TEMPERATURE") is { } t ? double.Parse(t, CultureInfo.InvariantCulture) : arm.Spec.Sampling.ClusterTemperature,
                        ClusterTopK = Setting("IAR_CLUSTER_TOP_K") is { } k ? int.Parse(k, CultureInfo.InvariantCulture) : arm.Spec.Sampling.ClusterTopK,
                        ClusterTopP = Setting("IAR_CLUSTER_TOP_P") is { } p ? double.Parse(p, CultureInfo.InvariantCulture) : arm.Spec.Sampling.ClusterTopP,
                    };
                    if (!clusterAware && Setting("IAR_PLAIN_TEMPERATURE") is { } plainT)
                        sampling = sampling with { Temperature = double.Parse(plainT, CultureInfo.InvariantCulture) };
                    var map = clusterAware ? models.ClusterOfToken() : null;
                    if (map is not null && Setting("IAR_RANDOM_CLUSTERS") == "1")
                    {
                        using var g = new torch.Generator(20_261_201);
                        map = map.index_select(0, torch.randperm(map.shape[0], generator: g));   // random clusters of the same sizes
                    }
                    var options = sampling.ToOptions(map);
                    if (options.Clusters is { } c) Console.WriteLine($"{arm.Name} seed {runSeed}: {c}");
                    var fids = new List<double>();
                    foreach (var s in seeds)
                    {
                        var watch = Stopwatch.StartNew();
                        using var labels = ImageSampler.BalancedLabels(n, models.NumClasses);
                        using var samples = ImageSampler.Sample(models.Generator, models.Tokenizer, labels, options,
                            GeneratorEvaluator.SamplingSeedOffset + s, spec.Evaluation.BatchSize);
                        var result = scorer.Evaluate(samples);
                        fids.Add(result.Fid!.Value);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{arm.Name} seed {runSeed} {(clusterAware ? "cluster-aware" : $"plain T={sampling.Temperature}")} sampling seed {s}: FID {result.Fid:F3}, class accuracy {result.ClassAccuracy:F3} ({watch.Elapsed.TotalSeconds:F0} s)"));
                    }
                    report.Add($"FID {arm.Name} seed {runSeed} {(clusterAware ? "cluster-aware" : "plain")}", fids, "fid", context);
                }
                models.Generator.Module.Dispose();
                models.Tokenizer.Module.Dispose();
            }
        }
    }
}
