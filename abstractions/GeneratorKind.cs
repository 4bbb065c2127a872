namespace IAR.Abstractions;

/// <summary>What one autoregressive step of a generator predicts.</summary>
public enum GeneratorKind
{
    /// <summary>One token per step over a single grid in raster order (LlamaGen).</summary>
    NextToken,

    /// <summary>A whole grid per step, coarse to fine (VAR).</summary>
    NextScale,
}
