namespace IAR.Abstractions;

/// <summary>How the classifier-free guidance scale varies over the generation steps.</summary>
public enum GuidanceSchedule
{
    /// <summary>The same scale at every step (LlamaGen).</summary>
    Constant,

    /// <summary>Zero at the first step rising linearly to the full scale at the last (VAR's schedule over scales).</summary>
    Linear,
}
