using IAR.Host.Experiments;

namespace IAR.Host.Training.Stages;

/// <summary>
/// Trains every arm × seed on the token cache, one after another, each in <c>arms/&lt;arm&gt;/seed-&lt;seed&gt;/</c>
/// (checkpoints, <c>generator.safetensors</c>). Finished jobs are loaded, an unfinished one resumes from its newest
/// checkpoint. What an arm trains (vocabulary, loss terms) comes from <paramref name="jobs"/>; evaluation during
/// training from <paramref name="evaluation"/>.
/// </summary>
public sealed class GeneratorTrainingStage(IGeneratorJobFactory jobs, IGeneratorEvaluationHook? evaluation = null) : IRunStage
{
    public string Name => "generators";

    public IGeneratorJobFactory Jobs { get; } = jobs;

    public IGeneratorEvaluationHook? Evaluation { get; } = evaluation;

    public void Run(RunContext context)
    {
        var results = new List<GeneratorTrainingResult>();
        foreach (var arm in context.Experiment.Arms)
        foreach (var seed in arm.Spec.EffectiveSeeds)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var job = Jobs.Create(context, arm, seed);
            var objective = new GeneratorObjective(job.Generator, job.Vocabulary.Train, job.LossTerms, job.LabelDrop, context.Device);
            var trainer = new Trainer(new TrainerSettings
            {
                Training = job.Training,
                Seed = seed,
                Folder = job.Folder,
                WeightsFile = job.WeightsPath,
                Config = job.Config,
                Tags = new Dictionary<string, object> { ["stage"] = "generator", ["arm"] = job.Arm, ["seed"] = seed },
                Label = job.Label,
                Permutation = job.Vocabulary.Permutation,
                Tokenizer = job.TokenizerHash,
                Device = context.Device,
                Metrics = context.Metrics,
                Log = context.Log,
                Cancellation = context.Cancellation,
                Evaluate = Evaluation is null ? null : step => Evaluation.Evaluate(context, job, step),
                EvaluateEvery = arm.Spec.Evaluation.Every,
            });
            context.Log.Info($"   {job.Label}: {job.Generator.Info.Plugin}/{job.Generator.Info.Preset}, " +
                             $"{job.Generator.Module.parameters().Sum(p => p.NumberOfElements):N0} parameters, " +
                             $"loss {string.Join(" + ", job.LossTerms.Select(t => t.Weight == 1 ? t.Name : $"{t.Weight}·{t.Name}"))}, " +
                             $"permutation {job.Vocabulary.Permutation}");
            var outcome = trainer.Run(objective);
            job.Generator.Module.eval();
            results.Add(new GeneratorTrainingResult(job, outcome));
        }
        context.Items[StageItems.Generators] = (IReadOnlyList<GeneratorTrainingResult>)results;
    }
}
