using IAR.Host.Iar;
using IAR.Host.Runs;
using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Serialization;

namespace IAR.Host.Evaluation;

/// <summary>
/// Evaluates a generator at a training step — samples <c>num_samples</c> images (balanced classes, a seed fixed per
/// run seed so every step and arm draws from the same random stream), scores them, runs the held-out token loop —
/// and writes its sample grid and ADM archive.
/// </summary>
/// <param name="evaluation">The arm's evaluation section.</param>
/// <param name="sampling">The arm's sampling options.</param>
/// <param name="resources">Shared extractor and reference; null is accepted only when no image metric is asked for.</param>
public sealed class GeneratorEvaluator(EvaluationSpec evaluation, SamplingOptions sampling, EvaluationResources? resources)
{
    /// <summary>Sampling seeds are offset from the run seed so they never coincide with the training streams.</summary>
    public const long SamplingSeedOffset = 7_919_000;

    public EvaluationSpec Spec { get; } = evaluation;

    bool WantsImages => Spec.Metrics.Any(m => m != ImageMetric.TokenMetrics);

    /// <summary>Metrics of <paramref name="generator"/> at <paramref name="step"/> as a metrics.jsonl record, with the samples.</summary>
    /// <param name="heldOut">Held-out tokens for the token metrics (required when token-metrics is asked for).</param>
    /// <param name="accumulator">Accuracy-type token statistics (fresh for this call); null records token_nll only.</param>
    public GeneratorEvaluation Evaluate(string arm, int seed, long step, IGenerator generator, ITokenizer tokenizer,
        HeldOutTokens? heldOut = null, ITokenPredictionAccumulator? accumulator = null)
    {
        var record = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [MetricNames.Stage] = MetricNames.EvaluationStage,
            [MetricNames.Arm] = arm,
            [MetricNames.Seed] = seed,
            [MetricNames.Step] = step,
        };
        LabelledImages? samples = null;
        try
        {
            if (WantsImages)
            {
                var shared = resources ?? throw new InvalidOperationException("Image metrics were asked for but no evaluation resources (feature extractor, reference) were prepared.");
                using var labels = ImageSampler.BalancedLabels(Spec.NumSamples, generator.Info.NumClasses);
                samples = ImageSampler.Sample(generator, tokenizer, labels, sampling, SamplingSeedOffset + seed, Spec.BatchSize);
                var evaluator = new ImageMetricsEvaluator(shared.Extractor, shared.Reference, Spec.Metrics, Spec.PrecisionRecallK, Spec.BatchSize);
                foreach (var (name, value) in evaluator.Evaluate(samples).Entries()) record[name] = value;
            }
            if (Spec.Metrics.Contains(ImageMetric.TokenMetrics))
            {
                var tokens = heldOut ?? throw new ArgumentException("Token metrics were asked for but no held-out tokens were given.", nameof(heldOut));
                foreach (var (name, value) in TokenMetricsEvaluator.Evaluate(generator, tokens, Spec.BatchSize, accumulator)) record[name] = value;
            }
            return new GeneratorEvaluation(record, samples);
        }
        catch
        {
            samples?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes samples/&lt;arm&gt;/seed-&lt;seed&gt;/grid.png (one row per class, <c>grid_per_class</c> columns, fixed seed) and,
    /// when <paramref name="samples"/> is given, samples.npz in the ADM evaluator format.
    /// </summary>
    /// <returns>The files written (full paths).</returns>
    /// <param name="step">The training step, for the grid's TensorBoard image summary (<c>samples/grid</c>).</param>
    public IReadOnlyList<string> WriteSamples(string runDirectory, string arm, int seed, IGenerator generator, ITokenizer tokenizer,
        LabelledImages? samples = null, long step = 0)
    {
        var written = new List<string>();
        if (Spec.GridPerClass > 0)
        {
            using var labels = ImageSampler.GridLabels(generator.Info.NumClasses, Spec.GridPerClass);
            using var grid = ImageSampler.Sample(generator, tokenizer, labels, sampling, SamplingSeedOffset + seed, Spec.BatchSize);
            var path = Path.Combine(runDirectory, RunLayout.GridFile(arm, seed));
            var png = SampleGrid.Encode(grid.Images, Spec.GridPerClass);
            AtomicFile.Write(path, s => s.Write(png));
            written.Add(path);
            using (var bitmap = SkiaSharp.SKBitmap.Decode(png))
                new TensorBoardEvents(MetricsLog.TensorBoardFolder(runDirectory, arm, seed)).Image(step, "samples/grid", png, bitmap.Height, bitmap.Width);
        }
        if (samples is not null)
        {
            var path = Path.Combine(runDirectory, RunLayout.NpzFile(arm, seed));
            AdmSampleArchive.Write(path, samples);
            written.Add(path);
        }
        return written;
    }
}

/// <summary>The result of evaluating a generator at one step: the metrics.jsonl record and the samples it was computed from.</summary>
/// <param name="Record">Ready for <c>MetricsLog.Append</c>: stage "eval", arm, seed, step and every computed metric.</param>
/// <param name="Samples">The generated images with their labels (null when no image metric was asked for). Owned.</param>
public sealed record GeneratorEvaluation(IReadOnlyDictionary<string, object?> Record, LabelledImages? Samples) : IDisposable
{
    public void Dispose() => Samples?.Dispose();
}
