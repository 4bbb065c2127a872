using System.Diagnostics;
using IAR.Host.Data;
using IAR.Host.Evaluation;
using TorchSharp;

namespace IAR.Bench;

/// <summary>
/// FID evaluation throughput on 10k images (features + statistics + Fréchet distance), and the sanity values of the
/// small-CNN extractor on Fashion-MNIST: its training time and test accuracy, FID(test, train), FID(noise, train),
/// the Inception Score of real test images, and precision/recall of test against train.
/// </summary>
public sealed class EvaluationBenchmark : IBenchmark
{
    public string Name => "fid";

    public string Description => "FID images/s on 10k images; small-CNN extractor training time, test accuracy and FID sanity values.";

    public void Run(BenchReport report)
    {
        var folder = FashionMnist.Locate(null);
        using var splits = DatasetLoader.Load(new IAR.Host.Data.DataSpec { Path = folder });
        using var train = LabelledImages.All(splits.Train);
        using var test = LabelledImages.All(splits.Test);
        var cache = Path.Combine(Path.GetTempPath(), "iar-bench-feature-extractors");
        var context = new Dictionary<string, object> { ["data"] = folder, ["train"] = train.Count, ["threads"] = torch.get_num_threads() };

        var options = new FeatureExtractorTrainingOptions(Steps: 1500);
        var watch = Stopwatch.StartNew();
        using var extractor = FeatureExtractorTrainer.LoadOrTrain(cache, train, test, 10, options, Console.WriteLine);
        report.Add("extractor train-or-load time", watch.Elapsed.TotalSeconds, "s", context);
        report.Add("extractor test accuracy", extractor.Provenance.TestAccuracy ?? double.NaN, "fraction", context);

        using var reference = ReferenceFeatures.Compute(extractor, train.Images);
        using (var real = extractor.Extract(test.Images)) report.Add("IS of real test images", InceptionScore.Compute(real.Logits), "score", context);
        report.Add("FID(test, train)", Fid(extractor, reference, test.Images), "fid", context);
        using (var noise = torch.rand(test.Images.shape) * 2 - 1)
            report.Add("FID(uniform noise, train)", Fid(extractor, reference, noise), "fid", context);
        using (var realFeatures = extractor.Extract(test.Images))
        {
            var (precision, recall) = PrecisionRecall.Compute(reference.Features.narrow(0, 0, test.Count), realFeatures.Features, 3);
            report.Add("precision(test vs train, k=3)", precision, "fraction", context);
            report.Add("recall(test vs train, k=3)", recall, "fraction", context);
        }

        // throughput: 10k images through features → statistics → Fréchet distance
        using var images = test.Images.narrow(0, 0, Math.Min(10_000, test.Count));
        long n = images.shape[0];
        var seconds = BenchReport.Time(() => Fid(extractor, reference, images), repeats: 5);
        report.Add($"FID on {n} images", seconds.Select(s => n / s).ToArray(), "images/s", context);
        var featureSeconds = BenchReport.Time(() => extractor.Extract(images).Dispose(), repeats: 5);
        report.Add($"features of {n} images", featureSeconds.Select(s => n / s).ToArray(), "images/s", context);
        using var features = extractor.Extract(images);
        var statSeconds = BenchReport.Time(() =>
        {
            using var statistics = FeatureStatistics.FromFeatures(features.Features);
            FrechetDistance.Compute(statistics, reference.Statistics);
        }, repeats: 5);
        report.Add("statistics + Fréchet distance", statSeconds.Select(s => s * 1000).ToArray(), "ms", context);
    }

    static double Fid(IFeatureExtractor extractor, ReferenceFeatures reference, torch.Tensor images)
    {
        using var extracted = extractor.Extract(images);
        using var statistics = FeatureStatistics.FromFeatures(extracted.Features);
        return FrechetDistance.Compute(statistics, reference.Statistics);
    }
}
