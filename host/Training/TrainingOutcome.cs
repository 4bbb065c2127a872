namespace IAR.Host.Training;

/// <summary>What a <see cref="Trainer"/> run did.</summary>
/// <param name="Steps">The step reached (the spec's total).</param>
/// <param name="ResumedFrom">The checkpoint step training resumed from, or null for a fresh start.</param>
/// <param name="WeightsFile">The final weights (EMA weights when EMA is on).</param>
/// <param name="AlreadyComplete">True when the job had finished before and nothing was trained.</param>
public sealed record TrainingOutcome(long Steps, long? ResumedFrom, string WeightsFile, bool AlreadyComplete);
