using IAR.Host.Experiments;

namespace IAR.Host.Training;

/// <summary>
/// Evaluation during generator training, connected by the pipeline: called every <c>evaluation.every</c> steps and
/// at the last step, before that step's checkpoint, so that a resumed run neither repeats nor skips an evaluation
/// (lines of <c>stage: eval</c> after the resumed checkpoint are dropped from metrics.jsonl with the training lines).
/// The generator holds the EMA weights when EMA is on and is in eval mode; the trainer restores the global torch RNG
/// and train mode afterwards. Use your own seeded <c>torch.Generator</c> for sampling.
/// </summary>
public interface IGeneratorEvaluationHook
{
    void Evaluate(RunContext context, GeneratorTrainingJob job, long step);
}
