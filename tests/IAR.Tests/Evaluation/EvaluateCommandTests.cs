using System.Text.Json;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Evaluation;

/// <summary><c>iar evaluate</c> streams .npz archives and PNG folders to the metrics the in-memory evaluator gives.</summary>
public class EvaluateCommandTests
{
    static LabelledImages RandomImages(int n, ulong seed)
    {
        using var g = new torch.Generator(seed);
        // Quantised to the archive's 8 bits, so the in-memory copy equals what is read back.
        var pixels = torch.randint(0, 256, [n, 3, 32, 32], generator: g, dtype: ScalarType.Int64).to(ScalarType.Float32);
        return new LabelledImages(pixels / 127.5f - 1, torch.arange(n, dtype: ScalarType.Int64).remainder(10));
    }

    [Fact]
    public void Evaluating_an_npz_or_a_png_folder_gives_the_in_memory_metrics()
    {
        using var dir = new TempDir();
        var extractorPath = dir.File("extractor.safetensors");
        using (var e = new ClassifierFeatureExtractor(new SmallCnnClassifier(new SmallCnnConfig(1, 32, 10, Width: 4)),
                   new FeatureExtractorProvenance("test", 0, 0, null, 0)))
            e.Save(extractorPath);
        using var generated = RandomImages(70, 1);
        using var real = RandomImages(90, 2);
        AdmSampleArchive.Write(dir.File("samples.npz"), generated);
        AdmSampleArchive.Write(dir.File("reference.npz"), real);
        Directory.CreateDirectory(dir.File("pngs"));
        for (int i = 0; i < 70; i++)
            using (var one = generated.Images.narrow(0, i, 1))
                SampleGrid.Write(dir.File($"pngs/{i:D6}-class{i % 10}.png"), one, 1, scale: 1, gap: 0);

        var extractor = FeatureExtractorCheckpoint.Load(extractorPath);
        using var reference = ReferenceFeatures.FromFeatures(Stored(dir.File("reference.npz"), extractor));
        var metrics = new[] { ImageMetric.Fid, ImageMetric.InceptionScore, ImageMetric.PrecisionRecall, ImageMetric.ClassAccuracy };
        // What the archive holds (8-bit pixels), all at once, through the in-memory evaluator.
        LabelledImages stored;
        using (var reader = AdmSampleReader.Open(dir.File("samples.npz")))
        {
            var batches = reader.Batches(1000).ToList();
            stored = new LabelledImages(torch.cat(batches.Select(b => b.Images).ToList(), 0), torch.cat(batches.Select(b => b.Labels).ToList(), 0));
            foreach (var b in batches) b.Dispose();
        }
        using var _ = stored;
        Assert.Equal(generated.Labels.data<long>().ToArray(), stored.Labels.data<long>().ToArray());
        Assert.True((stored.Images - generated.Images).abs().max().item<float>() <= 1 / 127.5f + 1e-6f);
        var expected = new ImageMetricsEvaluator(extractor, reference, metrics, 3, 32).Evaluate(stored).Entries().ToDictionary();

        foreach (var samples in new[] { dir.File("samples.npz"), dir.File("pngs") })
        {
            var r = CliRunner.Run("evaluate", samples, "--reference", dir.File("reference.npz"), "--extractor", extractorPath,
                "--batch-size", "32", "--device", "cpu", "--json");
            Assert.True(r.ExitCode == 0, r.ToString());
            var json = JsonDocument.Parse(r.Output).RootElement;
            Assert.Equal(70, json.GetProperty("samples").GetInt64());
            foreach (var (name, value) in expected)
                Assert.True(Math.Abs(json.GetProperty(name).GetDouble() - value) <= 1e-9 * Math.Max(1, Math.Abs(value)),
                    $"{samples}: {name} {json.GetProperty(name).GetDouble()} where the in-memory evaluator gives {value}");
        }
    }

    static Tensor Stored(string npz, IFeatureExtractor extractor)
    {
        using var reader = AdmSampleReader.Open(npz);
        var batches = reader.Batches(1000).ToList();
        using var images = torch.cat(batches.Select(b => b.Images).ToList(), 0);
        foreach (var b in batches) b.Dispose();
        using var e = extractor.Extract(images, 32);
        return e.Features.clone();
    }

    [Fact]
    public void Class_accuracy_without_labels_is_refused_with_one_sentence()
    {
        using var dir = new TempDir();
        var extractorPath = dir.File("extractor.safetensors");
        using (var e = new ClassifierFeatureExtractor(new SmallCnnClassifier(new SmallCnnConfig(1, 32, 10, Width: 4)),
                   new FeatureExtractorProvenance("test", 0, 0, null, 0)))
            e.Save(extractorPath);
        using var images = RandomImages(8, 3);
        Directory.CreateDirectory(dir.File("pngs"));
        for (int i = 0; i < 8; i++)
            using (var one = images.Images.narrow(0, i, 1))
                SampleGrid.Write(dir.File($"pngs/{i}.png"), one, 1, scale: 1, gap: 0);
        var r = CliRunner.Run("evaluate", dir.File("pngs"), "--reference", dir.File("pngs"), "--extractor", extractorPath,
            "--metrics", "class-accuracy", "--device", "cpu");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("have none", r.Error);
    }
}
