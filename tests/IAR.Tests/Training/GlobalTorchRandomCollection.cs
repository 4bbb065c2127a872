namespace IAR.Tests.Training;

/// <summary>
/// Tests that compare training trajectories bit for bit: the global torch generator (dropout, torch.rand) is
/// process-wide, so these run alone, never beside tests that draw from it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalTorchRandomCollection
{
    public const string Name = "global torch random state";
}
