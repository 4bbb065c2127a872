using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Host.Runs;
using IAR.Host.Training;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Evaluation;

/// <summary>
/// The evaluation resources are computed once per run and loaded by every later process: a second
/// <see cref="EvaluationResources.Create"/> with the same inputs passes no image through the extractor and gives
/// bit-identical values; other inputs, or a damaged file, are computed again.
/// </summary>
public class EvaluationResourcesCacheTests
{
    /// <summary>Features = the means of the image's four quadrants (D = 4), logits = the same; counts the images it is fed.</summary>
    sealed class CountingExtractor : IFeatureExtractor
    {
        public long Images { get; private set; }

        public string Description => "quadrant means (test)";

        public int FeatureDimension => 4;

        public int NumClasses => 4;

        public ExtractedFeatures Extract(Tensor images, int batchSize = 256)
        {
            Images += images.shape[0];
            using var scope = torch.NewDisposeScope();
            long n = images.shape[0], h = images.shape[2] / 2, w = images.shape[3] / 2;
            var features = images.mean([1L]).view(n, 2, h, 2, w).mean([2L, 4L]).reshape(n, 4).to(ScalarType.Float32);   // [N, 4]
            var logits = features.clone();
            return new ExtractedFeatures(features.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
        }
    }

    static LabelledImages Images(int n, int seed)
    {
        using var g = new torch.Generator((ulong)seed);
        return new LabelledImages(torch.rand(n, 1, 8, 8, generator: g) * 2 - 1, torch.arange(n, dtype: ScalarType.Int64).remainder(4));
    }

    static bool SameBits(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.bytes.SequenceEqual(b.bytes);

    static readonly EvaluationSpec Spec = new() { NumSamples = 10, Metrics = [ImageMetric.Fid] };

    [Fact]
    public void A_second_process_loads_the_resources_and_gets_the_same_bits()
    {
        using var run = new TempDir();
        using var train = Images(60, 1);
        using var test = Images(30, 2);
        var cache = new EvaluationResourcesCache(Path.Combine(run.Path, RunLayout.EvaluationResourcesCache), "train+test");
        var first = new CountingExtractor();
        var messages = new List<string>();
        using var computed = EvaluationResources.Create(first, Spec, train, test, seed: 3, messages.Add, cache: cache);
        Assert.False(computed.LoadedFromCache);
        Assert.True(first.Images >= 90, $"the first call extracted {first.Images} images");
        Assert.Contains(messages, m => m.Contains("computing it (not cached yet)"));

        var second = new CountingExtractor();
        messages.Clear();
        using var loaded = EvaluationResources.Create(second, Spec, train, test, seed: 3, messages.Add, cache: cache);
        Assert.True(loaded.LoadedFromCache);
        Assert.Equal(0, second.Images);
        Assert.Contains(messages, m => m.Contains("evaluation reference: loaded from"));

        using var uncached = EvaluationResources.Create(new CountingExtractor(), Spec, train, test, seed: 3);
        foreach (var other in new[] { loaded, uncached })
        {
            Assert.True(SameBits(computed.Reference.Features, other.Reference.Features), "reference features differ");
            Assert.True(SameBits(computed.Reference.Statistics.Mean, other.Reference.Statistics.Mean), "reference means differ");
            Assert.True(SameBits(computed.Reference.Statistics.Covariance, other.Reference.Statistics.Covariance), "reference covariances differ");
            Assert.Equal(computed.Summary, other.Summary);
            Assert.Equal(computed.NoiseFloors.Floors.Select(f => f.Fids.ToArray()), other.NoiseFloors.Floors.Select(f => f.Fids.ToArray()));
        }
    }

    [Fact]
    public void Other_inputs_or_a_damaged_file_are_computed_again()
    {
        using var run = new TempDir();
        using var train = Images(60, 1);
        using var test = Images(30, 2);
        var path = Path.Combine(run.Path, RunLayout.EvaluationResourcesCache);
        var cache = new EvaluationResourcesCache(path, "train+test");
        EvaluationResources.Create(new CountingExtractor(), Spec, train, test, seed: 3, cache: cache).Dispose();

        void Recomputed(EvaluationResourcesCache c, EvaluationSpec spec, int seed, string why)
        {
            var extractor = new CountingExtractor();
            var messages = new List<string>();
            using var r = EvaluationResources.Create(extractor, spec, train, test, seed, messages.Add, cache: c);
            Assert.False(r.LoadedFromCache, why);
            Assert.True(extractor.Images > 0, why);
            Assert.Contains(messages, m => m.Contains("computing it"));
        }
        Recomputed(cache, Spec, seed: 4, "another seed");
        Recomputed(cache with { DataFingerprint = "other images" }, Spec, seed: 4, "other images");
        Recomputed(cache, Spec with { NumSamples = 15 }, seed: 4, "another sample count");
        Recomputed(cache, Spec with { BatchSize = 7 }, seed: 4, "another batch size");
        File.WriteAllText(path, "not a safetensors file");
        Recomputed(cache, Spec, seed: 4, "a damaged file");
        using var again = EvaluationResources.Create(new CountingExtractor(), Spec, train, test, seed: 4, cache: cache);
        Assert.True(again.LoadedFromCache, "the recomputed values were not saved");
    }

    [Fact]
    public void The_tokenizer_quality_is_loaded_only_for_the_same_inputs()
    {
        using var run = new TempDir();
        var path = Path.Combine(run.Path, RunLayout.TokenizerQualityFile);
        var quality = new TokenizerQuality(21.123456789012345, 0.999, 1023, 1024, 2000);
        var key = TokenizerQuality.Fingerprint("tokenizer-hash", "images", 2000, 64);
        Assert.Null(TokenizerQuality.Load(path, key));
        quality.Save(path, key);
        Assert.Equal(quality, TokenizerQuality.Load(path, key));                                           // bit-identical doubles
        Assert.Null(TokenizerQuality.Load(path, TokenizerQuality.Fingerprint("other-hash", "images", 2000, 64)));
        Assert.Null(TokenizerQuality.Load(path, TokenizerQuality.Fingerprint("tokenizer-hash", "other images", 2000, 64)));
        Assert.Null(TokenizerQuality.Load(path, TokenizerQuality.Fingerprint("tokenizer-hash", "images", 1000, 64)));
        File.WriteAllText(path, "{ broken");
        Assert.Null(TokenizerQuality.Load(path, key));
        // A valid cache padded past 64 KiB is not read (a file that large was not written by Save).
        quality.Save(path, key);
        File.AppendAllText(path, new string(' ', 70_000));
        Assert.Null(TokenizerQuality.Load(path, key));
    }
}
