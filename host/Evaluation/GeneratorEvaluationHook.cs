using System.Globalization;
using IAR.Host.Experiments;
using IAR.Host.Metrics;
using IAR.Host.Training;
using TorchSharp;

namespace IAR.Host.Evaluation;

/// <summary>
/// The evaluation <c>iar run</c> connects to generator training: every <c>evaluation.every</c> steps and at the last
/// step it samples and scores the arm's generator (<see cref="GeneratorEvaluator"/>), runs the held-out token loop
/// with the job's reference clusters, and appends one <c>stage: eval</c> record to metrics.jsonl; at the last step it
/// also writes the sample grid and the ADM archive.
/// </summary>
public sealed class GeneratorEvaluationHook : IGeneratorEvaluationHook
{
    public void Evaluate(RunContext context, GeneratorTrainingJob job, long step)
    {
        var spec = job.Plan.Spec;
        var evaluator = new GeneratorEvaluator(spec.Evaluation, spec.Sampling.ToOptions(), EvaluationSetupStage.ResourcesOf(context));
        var tokenizer = job.Vocabulary.Tokenizer;
        HeldOutTokens? heldOut = null;
        try
        {
            TokenPredictionAccumulator? accumulator = null;
            if (spec.Evaluation.Metrics.Contains(ImageMetric.TokenMetrics))
            {
                var source = job.Vocabulary.HeldOut;
                using var all = torch.arange((long)source.Count);
                var batch = source.Gather(all);
                heldOut = new HeldOutTokens(batch.Tokens, batch.Labels);
                if (job.MeasurementClusters is { } clusters) accumulator = new TokenPredictionAccumulator(clusters);
            }
            using var evaluation = evaluator.Evaluate(job.Arm, job.Seed, step, job.Generator, tokenizer, heldOut, accumulator);
            context.Metrics.Append(evaluation.Record);
            context.Log.Info($"   eval {job.Label} step {step}: {Describe(evaluation.Record)}");
            if (step >= job.Training.Steps)
                evaluator.WriteSamples(context.Run.Path, job.Arm, job.Seed, job.Generator, tokenizer, evaluation.Samples);
        }
        finally
        {
            heldOut?.Tokens.Dispose();
            heldOut?.Labels.Dispose();
        }
    }

    static string Describe(IReadOnlyDictionary<string, object?> record) => string.Join(", ",
        record.Where(kv => kv.Value is double).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {(double)kv.Value!:G4}")));
}
