namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// The sizes and regularisation of LlamaGen's GPT (official <c>ModelArgs</c> names in snake_case). Vocabulary,
/// token grid and number of classes are not options: they come from the tokenizer and the data.
/// </summary>
public sealed record GptOptions
{
    /// <summary>Model width.</summary>
    public int Dim { get; init; } = 768;

    public int NLayer { get; init; } = 12;

    public int NHead { get; init; } = 12;

    /// <summary>Key/value heads (grouped-query attention); null = <see cref="NHead"/>.</summary>
    public int? NKvHead { get; init; }

    /// <summary>The SwiGLU hidden width int(2·4·dim/3) (times the multiplier) is rounded up to a multiple of this.</summary>
    public int MultipleOf { get; init; } = 256;

    public double? FfnDimMultiplier { get; init; }

    public double RopeBase { get; init; } = 10000;

    public double NormEps { get; init; } = 1e-5;

    /// <summary>Std of the normal init of every Linear and Embedding weight.</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>
    /// Std of the output head's init. The official model zero-initialises it (0), so a fresh model predicts the
    /// uniform distribution; tests that need distinct logits from a fresh model set it to e.g. 0.02.
    /// </summary>
    public double OutputInitStd { get; init; }

    public double TokenDropoutP { get; init; } = 0.1;

    public double AttnDropoutP { get; init; }

    public double ResidDropoutP { get; init; } = 0.1;

    public double FfnDropoutP { get; init; } = 0.1;

    /// <summary>Stochastic depth, rising linearly from 0 at the first layer to this at the last.</summary>
    public double DropPathRate { get; init; }

    /// <summary>
    /// The official key, here only the switch for the null class: any value &gt; 0 adds the null-class row (index
    /// num_classes) to the class embedding, as officially; 0 builds a model without guidance. It is NOT the rate of
    /// dropped labels: that is the experiment's <c>training.label_drop</c> alone (the trainer passes
    /// <c>TokenBatch.DropLabels</c>), and the preflight refuses <c>label_drop &gt; 0</c> for a model without the row.
    /// </summary>
    public double ClassDropoutProb { get; init; } = 0.1;
}
