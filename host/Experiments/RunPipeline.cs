namespace IAR.Host.Experiments;

/// <summary>The stages <c>iar run</c> executes, in order. Each issue that adds a stage adds it here.</summary>
public static class RunPipeline
{
    public static IReadOnlyList<IRunStage> Stages(Experiment experiment) => [];
}
