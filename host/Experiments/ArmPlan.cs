namespace IAR.Host.Experiments;

/// <summary>One arm of an ablation: a name and the experiment spec with the arm's overlay applied.</summary>
public sealed record ArmPlan(string Name, ExperimentSpec Spec);
