using IAR.Host.Runs;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using IAR.Abstractions;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Host.Native;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Cli;

/// <summary>
/// <c>iar evaluate SAMPLES.npz|FOLDER --reference REF.npz|FOLDER --extractor FILE</c>: FID, Inception Score,
/// precision/recall and class accuracy of samples against real images, with the project's feature extractor. Images
/// stream through the extractor batch by batch; only features and logits are kept, so memory grows with N·(D + K),
/// not with the images.
/// </summary>
public static class EvaluateCommand
{
    static readonly Dictionary<string, ImageMetric> MetricNamesAccepted = new(StringComparer.Ordinal)
    {
        ["fid"] = ImageMetric.Fid,
        ["inception-score"] = ImageMetric.InceptionScore,
        ["precision-recall"] = ImageMetric.PrecisionRecall,
        ["class-accuracy"] = ImageMetric.ClassAccuracy,
    };

    public static Command Build(ConsoleOutput ctx)
    {
        var samples = new Argument<string>("samples") { Description = "Generated images: an ADM .npz (arr_0 uint8 [N, H, W, 3], arr_1 labels) or a folder of PNGs (…-classN.png)." };
        var reference = new Option<string>("--reference") { Description = "Real images: an ADM-style .npz or a folder of PNGs.", HelpName = "NPZ|DIR", Required = true };
        var extractor = new Option<string>("--extractor") { Description = "Feature extractor checkpoint (safetensors; a run's evaluation cache holds one).", HelpName = "FILE", Required = true };
        var metrics = new Option<string>("--metrics")
        {
            Description = $"Comma-separated: {string.Join(", ", MetricNamesAccepted.Keys)} (default: all; class-accuracy only with labels).",
            HelpName = "LIST",
        };
        var k = new Option<int>("--k") { Description = "k of the precision/recall k-NN manifolds.", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch-size") { Description = "Images per extractor forward pass.", DefaultValueFactory = _ => 256 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "Print the metrics as one JSON object instead of a table." };
        var command = new Command("evaluate", "Score generated images (FID, IS, precision/recall, class accuracy) against real ones, streaming.")
        {
            samples, reference, extractor, metrics, k, batch, device, json,
        };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            int batchSize = parse.GetValue(batch);
            if (batchSize < 1) throw new ConfigurationException($"--batch-size {batchSize} is invalid; at least 1 is accepted.");
            int neighbours = parse.GetValue(k);
            if (neighbours < 1) throw new ConfigurationException($"--k {neighbours} is invalid; at least 1 is accepted.");
            var extractorPath = parse.GetValue(extractor)!;
            if (!File.Exists(extractorPath)) throw new ConfigurationException($"--extractor '{extractorPath}' does not exist.");
            Execute(ctx, parse.GetValue(samples)!, parse.GetValue(reference)!, extractorPath, parse.GetValue(metrics), neighbours, batchSize,
                DeviceSelector.Resolve(parse.GetValue(device)!), parse.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    static void Execute(ConsoleOutput ctx, string samplesPath, string referencePath, string extractorPath, string? metricList, int k,
        int batchSize, Device device, bool json)
    {
        var clock = Stopwatch.StartNew();
        var extractor = FeatureExtractorCheckpoint.Load(extractorPath, "--extractor");
        if (extractor is ClassifierFeatureExtractor classifier) classifier.Model.to(device);
        using var samples = SampleImageSource.Open(samplesPath);
        var chosen = metricList is null
            ? MetricNamesAccepted.Values.Where(m => m != ImageMetric.ClassAccuracy || samples.Labelled).ToList()
            : metricList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(m => MetricNamesAccepted.TryGetValue(m, out var v) ? v
                    : throw new ConfigurationException($"--metrics '{m}' is invalid; accepted: {string.Join(", ", MetricNamesAccepted.Keys)}.")).Distinct().ToList();

        using var referenceFeatures = ReferenceFeaturesOf(extractor, referencePath, batchSize);
        var evaluator = new ImageMetricsEvaluator(extractor, referenceFeatures, chosen, k, batchSize);
        ImageMetricsResult result;
        try
        {
            result = evaluator.Evaluate(samples.Batches(batchSize), samples.Labelled);
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"{samplesPath}: {e.Message}");
        }
        (extractor as IDisposable)?.Dispose();
        if (json)
        {
            var record = result.Entries().ToDictionary(kv => kv.Key, kv => (object)kv.Value);
            record["samples"] = samples.Count;
            record["reference"] = referenceFeatures.Count;
            ctx.Plain.WriteLine(JsonSerializer.Serialize(record));
            return;
        }
        var table = new Table().AddColumns("metric", "value");
        foreach (var (name, value) in result.Entries()) table.AddRow(name, value.ToString("G5", CultureInfo.InvariantCulture));
        table.AddRow("samples", string.Create(CultureInfo.InvariantCulture, $"{samples.Count} from {Markup.Escape(samplesPath)}"));
        table.AddRow("reference", string.Create(CultureInfo.InvariantCulture, $"{referenceFeatures.Count} from {Markup.Escape(referencePath)}"));
        table.AddRow("extractor", Markup.Escape(extractor.Description));
        table.AddRow("time", string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds:F1} s"));
        ctx.Out.Write(table);
    }

    /// <summary>Features of the real images, extracted batch by batch.</summary>
    static ReferenceFeatures ReferenceFeaturesOf(IFeatureExtractor extractor, string path, int batchSize)
    {
        using var source = SampleImageSource.Open(path);
        var parts = new List<Tensor>();
        try
        {
            foreach (var batch in source.Batches(batchSize))
                using (batch)
                using (var e = extractor.Extract(batch.Images, batchSize))
                    parts.Add(e.Features.detach().clone());
            if (parts.Count == 0) throw new InvalidDataException($"--reference {path} holds no images.");
            return ReferenceFeatures.FromFeatures(torch.cat(parts, 0));
        }
        finally
        {
            foreach (var t in parts) t.Dispose();
        }
    }
}
