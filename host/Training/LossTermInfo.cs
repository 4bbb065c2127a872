namespace IAR.Host.Training;

/// <summary>One loss term as the trainer logs it: <c>loss/&lt;Name&gt;</c> (unweighted) and its weight in the total.</summary>
public sealed record LossTermInfo(string Name, double Weight);
