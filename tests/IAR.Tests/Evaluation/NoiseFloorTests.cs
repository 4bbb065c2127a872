using IAR.Host.Runs;
using IAR.ContractTests;
using IAR.Abstractions;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Evaluation;

/// <summary>
/// The FID noise floor is the FID of real held-out images against the reference, at the sample count the generator
/// evaluation scores, over disjoint seeded draws. A recording extractor sees every image the floor and the evaluation feed it.
/// </summary>
public class NoiseFloorTests
{
    /// <summary>Features = the means of the image's four quadrants (D = 4), logits = the same; keeps every batch it was fed.</summary>
    sealed class RecordingExtractor : IFeatureExtractor, IDisposable
    {
        public List<Tensor> Calls { get; } = [];

        public string Description => "quadrant means (test)";

        public int FeatureDimension => 4;

        public int NumClasses => 4;

        public ExtractedFeatures Extract(Tensor images, int batchSize = 256)
        {
            var kept = images.detach().clone();
            kept.DetachFromDisposeScope();
            Calls.Add(kept);
            using var scope = torch.NewDisposeScope();
            long n = images.shape[0], h = images.shape[2] / 2, w = images.shape[3] / 2;
            var quadrants = images.mean([1L]).view(n, 2, h, 2, w).mean([2L, 4L]).reshape(n, 4);     // [N, 4]
            var features = quadrants.to(ScalarType.Float32);
            var logits = features.clone();
            return new ExtractedFeatures(features.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
        }

        public void Dispose()
        {
            foreach (var t in Calls) t.Dispose();
        }
    }

    /// <summary>[n] distinct images [n, 1, 8, 8] in [-1, 1] with labels, from a seed.</summary>
    static LabelledImages Images(int n, int seed)
    {
        using var g = new torch.Generator((ulong)seed);
        return new LabelledImages(torch.rand(n, 1, 8, 8, generator: g) * 2 - 1, torch.arange(n, dtype: ScalarType.Int64).remainder(4));
    }

    /// <summary>For each image of <paramref name="seen"/> [b, …], its row in <paramref name="pool"/> [T, …], or −1.</summary>
    static long[] RowsIn(Tensor seen, Tensor pool)
    {
        using var scope = torch.NewDisposeScope();
        var equal = seen.flatten(1).unsqueeze(1).eq(pool.flatten(1).unsqueeze(0)).all(-1);   // [b, T]: bit-identical images
        var (found, index) = equal.to(ScalarType.Int32).max(1);
        return Enumerable.Range(0, (int)seen.shape[0]).Select(i => found[i].item<int>() == 1 ? index[i].item<long>() : -1).ToArray();
    }

    [Fact]
    public void The_floor_scores_disjoint_draws_of_real_held_out_images_at_the_evaluation_sample_count()
    {
        var spec = new EvaluationSpec { NumSamples = 12, BatchSize = 100, Metrics = [ImageMetric.Fid] };
        using var train = Images(80, 1);
        using var test = Images(70, 2);
        var extractor = new RecordingExtractor();
        using var resources = EvaluationResources.Create(extractor, spec, train, test, seed: 3);
        // calls: the reference (train), the real Inception Score (all held-out), then one per draw
        var draws = extractor.Calls.Skip(2).ToArray();
        var floor = Assert.Single(resources.NoiseFloors.Floors);
        Assert.Equal(12, floor.SampleCount);
        Assert.Equal(NoiseFloor.DefaultDraws, draws.Length);                                  // 70 / 12 = 5 disjoint blocks fit
        Assert.True(floor.Disjoint);
        var used = new List<long>();
        for (int d = 0; d < draws.Length; d++)
        {
            Assert.Equal(12, draws[d].shape[0]);
            var rows = RowsIn(draws[d], test.Images);
            Assert.DoesNotContain(-1L, rows);                                                 // every image is a held-out one
            Assert.All(RowsIn(draws[d], train.Images), r => Assert.Equal(-1L, r));           // none is a reference image
            used.AddRange(rows);
            // the FID of exactly these images against the training reference
            using var stats = FeatureStatistics.FromFeatures(extractor.Extract(draws[d]).Features);
            TensorAssert.Close(FrechetDistance.Compute(stats, resources.Reference.Statistics), floor.Fids[d], atol: 1e-12, rtol: 0);
        }
        Assert.Equal(used.Count, used.Distinct().Count());                                    // disjoint draws

        // the generator evaluation feeds the same extractor the same N
        int before = extractor.Calls.Count;
        var generator = FixturePluginCatalog.Generator(seed: 4);
        var tokenizer = FixturePluginCatalog.Tokenizer(seed: 4);
        using var evaluation = new GeneratorEvaluator(spec, new SamplingOptions(), resources).Evaluate("baseline", 0, 10, generator, tokenizer);
        Assert.Equal(floor.SampleCount, extractor.Calls.Skip(before).Sum(c => c.shape[0]));
        extractor.Dispose();
    }

    [Fact]
    public void The_floor_is_seeded_and_written_for_the_report()
    {
        using var train = Images(60, 1);
        using var test = Images(30, 2);
        var spec = new EvaluationSpec { NumSamples = 10, Metrics = [ImageMetric.Fid] };
        using var a = EvaluationResources.Create(new RecordingExtractor(), spec, train, test, seed: 0, floorSampleCounts: [10, 20, 40]);
        using var b = EvaluationResources.Create(new RecordingExtractor(), spec, train, test, seed: 0, floorSampleCounts: [10, 20, 40]);
        using var c = EvaluationResources.Create(new RecordingExtractor(), spec, train, test, seed: 1, floorSampleCounts: [10]);
        var ten = a.NoiseFloors.At(10)!;
        Assert.Equal(ten.Fids, b.NoiseFloors.At(10)!.Fids);
        Assert.NotEqual(ten.Fids, c.NoiseFloors.At(10)!.Fids);
        Assert.Equal(3, ten.Fids.Count);                                                      // 30 / 10 disjoint blocks
        Assert.True(ten.Disjoint);
        var twenty = a.NoiseFloors.At(20)!;                                                   // 30 < 2 × 20: overlapping subsets, said so
        Assert.False(twenty.Disjoint);
        Assert.Equal(NoiseFloor.DefaultDraws, twenty.Fids.Count);
        var forty = a.NoiseFloors.At(40)!;                                                    // more than the held-out split holds
        Assert.False(forty.Measured);
        Assert.Contains("fewer than the 40", forty.Describe());
        TensorAssert.Close(2 * Math.Sqrt(2) * ten.StandardDeviation, ten.Margin, atol: 1e-12, rtol: 0);

        using var run = new TempDir();
        a.WriteSummary(run.Path);
        var read = NoiseFloors.Read(Path.Combine(run.Path, RunLayout.NoiseFloor))!;
        Assert.Equal(ten.Fids, read.At(10)!.Fids);
        Assert.Equal(ten.Describe(), read.At(10)!.Describe());
        Assert.False(read.At(40)!.Measured);
    }
}
