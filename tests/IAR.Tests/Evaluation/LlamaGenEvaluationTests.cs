using IAR.Abstractions;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;

namespace IAR.Tests.Evaluation;

/// <summary>The evaluation entry point on the real LlamaGen plugin (tiny, untrained presets) and real Fashion-MNIST images.</summary>
[Collection(TrainedExtractorCollection.Name)]
public class LlamaGenEvaluationTests(TrainedExtractorFixture fixture)
{
    [Fact]
    public void Untrained_llamagen_samples_score_far_from_real_images()
    {
        torch.manual_seed(0);
        var tokenizer = new VqTokenizerFactory().Create(new TokenizerRequest("VQ-T", new Dictionary<string, string>(), new ImageShape(1, 16, 16)));   // 8×8 tokens; the extractor resizes to 32
        torch.manual_seed(0);
        var generator = new GptGeneratorFactory().Create(new GeneratorRequest("GPT-T", new Dictionary<string, string>(), tokenizer, 10));
        var spec = new EvaluationSpec { NumSamples = 130, BatchSize = 65, FeatureExtractorSteps = TrainedExtractorFixture.Options.Steps };

        // the resources as Prepare builds them, from the fixture's cached extractor (no retraining)
        using var resources = EvaluationResources.Prepare(spec, fixture.Train, fixture.Test, 10, fixture.CacheFolder, seed: TrainedExtractorFixture.Options.Seed);
        using var real = torch.nn.functional.interpolate(fixture.Test.Images.narrow(0, 0, 16), [16, 16], mode: torch.InterpolationMode.Bilinear);
        using var tokens = tokenizer.Encode(real);
        var heldOut = new HeldOutTokens(tokens, fixture.Test.Labels.narrow(0, 0, 16));

        using var evaluation = new GeneratorEvaluator(spec, new SamplingOptions(CfgScale: 1.5), resources)
            .Evaluate("baseline", seed: 0, step: 0, generator, tokenizer, heldOut);

        Assert.Equal(new long[] { 130, 1, 16, 16 }, evaluation.Samples!.Images.shape);
        var record = evaluation.Record;
        Assert.True((double)record["fid"]! > 20 * 0.0173, $"FID of untrained samples {record["fid"]}");   // real test images: 0.017
        // Class accuracy: the share of samples the extractor classifies as the class they were drawn for, counted here
        // from the samples themselves (a metric that compared against the wrong labels, or none, would differ); an
        // untrained generator stays near chance (0.1).
        using (var extracted = resources.Extractor.Extract(evaluation.Samples.Images, spec.BatchSize))
        {
            var predicted = extracted.Logits.argmax(1).data<long>().ToArray();
            var drawnFor = evaluation.Samples.Labels.data<long>().ToArray();
            double agreeing = predicted.Zip(drawnFor).Count(p => p.First == p.Second) / (double)predicted.Length;
            Assert.Equal(agreeing, (double)record["class_accuracy"]!, 12);
        }
        Assert.InRange((double)record["class_accuracy"]!, 0.0, 0.5);
        Assert.InRange((double)record["token_nll"]!, 0.0, 2 * Math.Log(generator.Info.VocabularySize));
    }
}
