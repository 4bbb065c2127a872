using IAR.Host.Configuration;
using System.ComponentModel;
using IAR.Abstractions;

namespace IAR.Host.Experiments;

/// <summary>How a model is trained; the same knobs for the tokenizer and the generator.</summary>
public sealed record TrainingSpec : ISpecSection
{
    [Description("optimizer steps")]
    public int Steps { get; init; } = 1000;

    [Description("images per optimizer step")]
    public int BatchSize { get; init; } = 64;

    [Description("split each step's batch into K equal micro-batches, one forward/backward each, gradients summed (same result as the whole batch up to floating-point order, without dropout; less memory)")]
    public int GradientAccumulation { get; init; } = 1;

    [Description("peak learning rate (AdamW)")]
    public double Lr { get; init; } = 1e-3;

    [Description("AdamW weight decay, applied to weights of 2 or more dimensions only")]
    public double WeightDecay { get; init; } = 0.05;

    [Description("AdamW beta1")]
    public double Beta1 { get; init; } = 0.9;

    [Description("AdamW beta2")]
    public double Beta2 { get; init; } = 0.95;

    [Description("linear warm-up steps")]
    public int WarmupSteps { get; init; } = 100;

    [Description("constant | cosine after warm-up")]
    public LrSchedule Schedule { get; init; } = LrSchedule.Cosine;

    [Description("cosine floor as a fraction of lr")]
    public double MinLrRatio { get; init; } = 0.1;

    [Description("clip the global gradient norm to this (0 = off)")]
    public double GradClip { get; init; } = 1.0;

    [Description("exponential moving average decay of the weights (0 = off)")]
    public double Ema { get; init; }

    [Description("ramp the EMA decay up as min(ema, (1 + t) / (10 + t)) at step t, so that short runs do not evaluate mostly initial weights (false = constant decay, as official LlamaGen)")]
    public bool EmaWarmup { get; init; } = true;

    [Description("probability of dropping a class label (classifier-free guidance training); generator only")]
    public double LabelDrop { get; init; } = 0.1;

    [Description("label smoothing of the token cross-entropy")]
    public double LabelSmoothing { get; init; }

    [Description("extra loss terms by name and weight, added to token CE (+ λ·cluster CE), e.g. {z_loss: 1e-4}: the host's z_loss or a term a plugin exports (generator only)")]
    // One shared empty default, so that two specs without extra terms compare equal (a record compares a map by reference).
    public IReadOnlyDictionary<string, double> Loss { get; init; } = System.Collections.Immutable.ImmutableDictionary<string, double>.Empty;

    [Description("write a checkpoint every N steps (0 = only at the end)")]
    public int CheckpointEvery { get; init; } = 500;

    [Description("keep this many of the newest checkpoints (the older ones are deleted once a new one is complete)")]
    public int KeepCheckpoints { get; init; } = 2;

    [Description("log metrics every N steps")]
    public int LogEvery { get; init; } = 10;

    [Description("auto = bf16 on CUDA or a CPU with AMX-BF16 / AVX512-BF16, else fp32 (the job's configuration records which); bf16 = the generator's matmuls and activations in bfloat16; master weights, optimizer, norms, softmax and losses stay float32; evaluation and iar sample follow it (generator only; the tokenizer trains in fp32)")]
    public PrecisionSetting Precision { get; init; } = PrecisionSetting.Auto;

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (Steps < 1) yield return ("steps", $"steps = {Steps} is invalid; at least 1 is accepted.");
        if (BatchSize < 1) yield return ("batch_size", $"batch_size = {BatchSize} is invalid; at least 1 is accepted.");
        if (GradientAccumulation < 1 || (BatchSize >= 1 && BatchSize % GradientAccumulation != 0))
            yield return ("gradient_accumulation", $"gradient_accumulation = {GradientAccumulation} is invalid; a count ≥ 1 that divides batch_size = {BatchSize} is accepted.");
        if (!(Lr > 0)) yield return ("lr", $"lr = {Lr} is invalid; a value > 0 is accepted.");
        if (WeightDecay < 0) yield return ("weight_decay", "weight_decay must be ≥ 0.");
        if (Beta1 is < 0 or >= 1) yield return ("beta1", "beta1 must be in [0, 1).");
        if (Beta2 is < 0 or >= 1) yield return ("beta2", "beta2 must be in [0, 1).");
        if (WarmupSteps < 0) yield return ("warmup_steps", "warmup_steps must be ≥ 0.");
        if (MinLrRatio is < 0 or > 1) yield return ("min_lr_ratio", "min_lr_ratio must be in [0, 1].");
        if (GradClip < 0) yield return ("grad_clip", "grad_clip must be ≥ 0 (0 = off).");
        if (Ema is < 0 or >= 1) yield return ("ema", "ema must be in [0, 1) (0 = off).");
        if (LabelDrop is < 0 or >= 1) yield return ("label_drop", "label_drop must be in [0, 1).");
        if (LabelSmoothing is < 0 or >= 1) yield return ("label_smoothing", "label_smoothing must be in [0, 1).");
        foreach (var (name, weight) in Loss)
            if (weight < 0) yield return ("loss", $"loss.{name} = {weight} is invalid; a weight ≥ 0 is accepted.");
        if (CheckpointEvery < 0) yield return ("checkpoint_every", "checkpoint_every must be ≥ 0 (0 = only at the end).");
        if (KeepCheckpoints < 1) yield return ("keep_checkpoints", "keep_checkpoints must be ≥ 1 (the newest checkpoint is always kept).");
        if (LogEvery < 1) yield return ("log_every", "log_every must be ≥ 1.");
    }
}

/// <summary>The learning rate after warm-up.</summary>
public enum LrSchedule
{
    Constant,
    Cosine,
}

/// <summary><c>training.precision</c> as written: a precision, or <c>auto</c> (the default), decided per machine.</summary>
public enum PrecisionSetting
{
    /// <summary>bf16 where the device has a bf16 matrix unit (<c>Training.PrecisionChoice.Resolve</c>), fp32 otherwise.</summary>
    Auto,

    /// <summary>Everything in float32.</summary>
    Fp32,

    /// <summary>Matmuls and the activations between them in bfloat16 (<see cref="Precision.Bf16"/>).</summary>
    Bf16,
}
