namespace IAR.Host.Training;

/// <summary>One trained arm × seed: its job (generator with its final weights loaded) and what training did.</summary>
public sealed record GeneratorTrainingResult(GeneratorTrainingJob Job, TrainingOutcome Outcome);
