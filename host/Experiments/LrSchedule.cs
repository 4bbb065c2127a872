namespace IAR.Host.Experiments;

/// <summary>The learning rate after warm-up.</summary>
public enum LrSchedule
{
    Constant,
    Cosine,
}
