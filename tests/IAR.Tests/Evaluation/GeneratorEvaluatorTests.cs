using IAR.Host.Iar;
using IAR.Host.Runs;
using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Evaluation;

/// <summary>The evaluation entry points on the fixture plugin (8×8 grey images, 4 classes, unigram generator).</summary>
public class GeneratorEvaluatorTests
{
    /// <summary>Counts what it is fed: a stand-in for IAR core's accumulator.</summary>
    sealed class CountingAccumulator : ITokenPredictionAccumulator
    {
        public long Targets;
        public int Batches;

        public void Add(Tensor logits, Tensor targets)
        {
            Assert.Equal(targets.shape, logits.shape[..^1]);
            Targets += targets.NumberOfElements;
            Batches++;
        }

        public IReadOnlyDictionary<string, double> Results() => new Dictionary<string, double> { [MetricNames.TokenAccuracy] = Targets };
    }

    /// <summary>Four classes told apart by brightness, with noise.</summary>
    static LabelledImages Synthetic(int count, int seed)
    {
        using var g = new torch.Generator((ulong)seed);
        using var labels = ImageSampler.BalancedLabels(count, 4);
        var levels = labels.to(ScalarType.Float32).mul(0.5f).sub(0.75f).view(-1, 1, 1, 1);
        var images = (levels + torch.randn([count, 1, 8, 8], generator: g) * 0.1f).clamp(-1, 1);
        return new LabelledImages(images, labels.clone());
    }

    static HeldOutTokens HeldOut(IGenerator generator, int count)
    {
        using var g = new torch.Generator(3);
        var tokens = torch.randint(generator.Info.VocabularySize, [count, generator.Info.Layout.SequenceLength], generator: g);
        return new HeldOutTokens(tokens, ImageSampler.BalancedLabels(count, generator.Info.NumClasses));
    }

    [Fact]
    public void The_token_loop_measures_the_mean_nll_and_feeds_every_batch_to_the_accumulator()
    {
        var generator = FixturePluginCatalog.Generator(seed: 2);
        var heldOut = HeldOut(generator, 10);
        var accumulator = new CountingAccumulator();
        generator.Module.train();
        var results = TokenMetricsEvaluator.Evaluate(generator, heldOut, batchSize: 4, accumulator);

        // independently: the unigram table's log-probabilities at the held-out tokens
        var table = generator.Module.parameters().Single();                                   // [K+1, L, V]
        var logProbs = table.detach().index_select(0, heldOut.Labels).log_softmax(-1);       // [N, L, V]
        double expected = -logProbs.gather(2, heldOut.Tokens.unsqueeze(2)).to(ScalarType.Float64).mean().item<double>();
        TensorAssert.Close(expected, results[MetricNames.TokenNll], atol: 1e-5, rtol: 0);
        Assert.Equal(3, accumulator.Batches);                                                 // 4 + 4 + 2
        Assert.Equal(heldOut.Tokens.NumberOfElements, (long)results[MetricNames.TokenAccuracy]);
        Assert.True(generator.Module.training, "the generator's train mode is restored");
    }

    [Fact]
    public void Sampling_is_reproducible_for_a_seed_and_differs_between_seeds()
    {
        var generator = FixturePluginCatalog.Generator(seed: 4);
        var tokenizer = FixturePluginCatalog.Tokenizer(seed: 4);
        using var labels = ImageSampler.BalancedLabels(12, 4);
        var options = new SamplingOptions();
        using var a = ImageSampler.Sample(generator, tokenizer, labels, options, seed: 1, batchSize: 5);
        using var b = ImageSampler.Sample(generator, tokenizer, labels, options, seed: 1, batchSize: 5);
        using var c = ImageSampler.Sample(generator, tokenizer, labels, options, seed: 2, batchSize: 5);
        Assert.Equal(new long[] { 12, 1, 8, 8 }, a.Images.shape);
        TensorAssert.Identical(a.Images, b.Images);
        Assert.False(a.Images.eq(c.Images).all().item<bool>());
        TensorAssert.Identical(labels, a.Labels);
    }

    [Fact]
    public void Blocks_dealt_to_three_ranks_give_the_images_of_one_process()
    {
        // Each block of a batch is drawn from its own generator (seed, block index); one stream through the batches
        // would give a rank that skips the blocks before its own other images.
        var generator = FixturePluginCatalog.Generator(seed: 4);
        var tokenizer = FixturePluginCatalog.Tokenizer(seed: 4);
        using var labels = ImageSampler.BalancedLabels(23, 4);                                  // 5 blocks of 5, the last of 3
        var options = new SamplingOptions();
        using var whole = ImageSampler.Sample(generator, tokenizer, labels, options, seed: 1, batchSize: 5);
        var byBlock = new SortedDictionary<long, Tensor>();
        for (int rank = 0; rank < 3; rank++)
            ImageSampler.SampleBlocks(generator, tokenizer, labels, options, seed: 1, blockSize: 5, rank, ranks: 3, (block, images, _) =>
            {
                Assert.Equal(rank, block % 3);
                var kept = images.clone();
                kept.DetachFromDisposeScope();
                byBlock.Add(block, kept);
            });
        Assert.Equal([0L, 1, 2, 3, 4], byBlock.Keys);
        using var joined = torch.cat(byBlock.Values.ToArray(), 0);
        TensorAssert.Identical(whole.Images, joined);
        foreach (var t in byBlock.Values) t.Dispose();
    }

    [Fact]
    public void Evaluate_returns_a_metrics_record_and_writes_grid_and_npz()
    {
        var generator = FixturePluginCatalog.Generator(seed: 5);
        var tokenizer = FixturePluginCatalog.Tokenizer(seed: 5);
        var spec = new EvaluationSpec { NumSamples = 132, BatchSize = 64, FeatureExtractorSteps = 3, GridPerClass = 3 };
        using var train = Synthetic(200, 1);
        using var test = Synthetic(40, 2);
        using var cache = new TempDir();
        using var resources = EvaluationResources.Prepare(spec, train, test, numClasses: 4, cache.Path);
        var evaluator = new GeneratorEvaluator(spec, new SamplingOptions(), resources);
        var heldOut = HeldOut(generator, 6);

        using var first = evaluator.Evaluate("iar", seed: 0, step: 40, generator, tokenizer, heldOut, new CountingAccumulator());
        var record = first.Record;
        Assert.Equal("eval", record["stage"]);
        Assert.Equal("iar", record["arm"]);
        Assert.Equal(0, record["seed"]);
        Assert.Equal(40L, record["step"]);
        foreach (var key in new[] { "fid", "inception_score", "precision", "recall", "class_accuracy", "token_nll", "token_accuracy" })
            Assert.True(record[key] is double v && double.IsFinite(v), $"{key} = {record.GetValueOrDefault(key)}");
        Assert.Equal(132, first.Samples!.Count);

        using var second = evaluator.Evaluate("iar", seed: 0, step: 40, generator, tokenizer, heldOut, new CountingAccumulator());
        Assert.Equal(record["fid"], second.Record["fid"]);                                   // same seed → same samples → same numbers

        using var run = new TempDir();
        var files = evaluator.WriteSamples(run.Path, "iar", 0, generator, tokenizer, first.Samples);
        Assert.Equal(new[] { RunLayout.GridFile("iar", 0), RunLayout.NpzFile("iar", 0) },
            files.Select(f => Path.GetRelativePath(run.Path, f)).ToArray());
        Assert.All(files, f => Assert.True(File.Exists(f)));

        resources.WriteSummary(run.Path);
        var summary = FeatureExtractorSummary.Read(Path.Combine(run.Path, RunLayout.FeatureExtractorSummary));
        Assert.Equal(resources.Summary, summary);
    }

    [Fact]
    public void Token_metrics_only_need_no_feature_extractor()
    {
        var generator = FixturePluginCatalog.Generator(seed: 6);
        var tokenizer = FixturePluginCatalog.Tokenizer(seed: 6);
        var spec = new EvaluationSpec { Metrics = [ImageMetric.TokenMetrics] };
        using var result = new GeneratorEvaluator(spec, new SamplingOptions(), null).Evaluate("baseline", 1, 10, generator, tokenizer, HeldOut(generator, 4));
        Assert.Null(result.Samples);
        Assert.Equal(new[] { "arm", "seed", "stage", "step", "token_nll" }, result.Record.Keys.Order().ToArray());
    }
}
