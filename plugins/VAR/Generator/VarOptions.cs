using IAR.Abstractions;

namespace IAR.Plugins.VAR;

/// <summary>
/// Every size of the VAR transformer, named after the official <c>VAR</c> constructor and <c>init_weights</c>
/// arguments (snake_case in YAML). Vocabulary, code dimension and scales come from the tokenizer, the number of
/// classes from the data. Labels are dropped by the trainer (<see cref="TokenBatch.DropLabels"/>), so the official
/// <c>cond_drop_rate</c> is not an option here.
/// </summary>
public sealed record VarOptions
{
    public int Depth { get; init; } = 16;

    /// <summary>C, the width; official presets use depth·64.</summary>
    public int EmbedDim { get; init; } = 1024;

    /// <summary>Official presets use one head per layer of depth.</summary>
    public int NumHeads { get; init; } = 16;

    public double MlpRatio { get; init; } = 4.0;

    public double DropRate { get; init; }

    public double AttnDropRate { get; init; }

    /// <summary>Stochastic depth, rising linearly from 0 at the first block; official presets use 0.1·depth/24.</summary>
    public double DropPathRate { get; init; } = 0.1 * 16 / 24;

    public double NormEps { get; init; } = 1e-6;

    /// <summary>One AdaLN projection shared by all blocks (<c>shared_ada_lin</c>) plus a learned per-block offset.</summary>
    public bool SharedAln { get; init; }

    /// <summary>Cosine attention: L2-normalised q and k with a learned per-head scale (the official presets use it).</summary>
    public bool AttnL2Norm { get; init; } = true;

    /// <summary>Multiplier of the AdaLN scale/shift weights at init.</summary>
    public double InitAdaln { get; init; } = 0.5;

    /// <summary>Multiplier of the AdaLN gate (gamma) weights at init.</summary>
    public double InitAdalnGamma { get; init; } = 1e-5;

    /// <summary>Multiplier of the head weights at init (negative: leave them).</summary>
    public double InitHead { get; init; } = 0.02;

    /// <summary>Std of the trunc-normal init of linear and embedding weights; negative = sqrt(1 / (3·C)).</summary>
    public double InitStd { get; init; } = -1;

    /// <summary>The official size for a depth: width depth·64, depth heads, drop-path 0.1·depth/24.</summary>
    public static VarOptions FromDepth(int depth) =>
        new() { Depth = depth, EmbedDim = depth * 64, NumHeads = depth, DropPathRate = 0.1 * depth / 24 };

    /// <summary>Throws <see cref="ConfigurationException"/> naming the first option out of range.</summary>
    public void Validate(string context)
    {
        if (Depth < 1) Fail($"{context}.depth = {Depth} is invalid; at least 1 is accepted.");
        if (NumHeads < 1) Fail($"{context}.num_heads = {NumHeads} is invalid; at least 1 is accepted.");
        if (EmbedDim < 1 || EmbedDim % NumHeads != 0)
            Fail($"{context}.embed_dim = {EmbedDim} is invalid; a positive multiple of num_heads ({NumHeads}) is accepted.");
        if (!(MlpRatio > 0)) Fail($"{context}.mlp_ratio = {MlpRatio} is invalid; a value > 0 is accepted.");
        foreach (var (key, value) in new[] { ("drop_rate", DropRate), ("attn_drop_rate", AttnDropRate), ("drop_path_rate", DropPathRate) })
            if (value is < 0 or >= 1) Fail($"{context}.{key} = {value} is invalid; a value in [0, 1) is accepted.");
        if (!(NormEps > 0)) Fail($"{context}.norm_eps = {NormEps} is invalid; a value > 0 is accepted.");
    }

    static void Fail(string message) => throw new ConfigurationException(message);
}
