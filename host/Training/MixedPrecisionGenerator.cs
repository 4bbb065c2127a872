using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// A generator whose teacher-forced forward and sampling run in an <see cref="Autocast"/> region of
/// <c>training.precision</c>, so training, evaluation and <c>iar sample</c> follow the one setting. The parameters
/// stay float32 (the master weights the optimizer and EMA update); logits come back as float32, so the loss terms'
/// log-softmax, the token metrics and the samplers' softmax run in float32.
/// </summary>
public sealed class MixedPrecisionGenerator : IGenerator
{
    readonly IGenerator inner;

    MixedPrecisionGenerator(IGenerator inner, Precision precision)
    {
        this.inner = inner;
        Precision = precision;
    }

    /// <summary><paramref name="generator"/> itself for fp32 (nothing changes, to the bit), else the decorator.</summary>
    public static IGenerator Wrap(IGenerator generator, Precision precision) =>
        precision == Precision.Fp32 ? generator : new MixedPrecisionGenerator(generator, precision);

    public Precision Precision { get; }

    public GeneratorInfo Info => inner.Info;

    public nn.Module Module => inner.Module;

    public IReadOnlyList<VocabularyParameter> VocabularyParameters => inner.VocabularyParameters;

    public GeneratorOutput Forward(TokenBatch batch)
    {
        using var region = Autocast.Enter(Precision);
        var output = inner.Forward(batch);
        if (output.Logits.dtype == ScalarType.Float32) return output;
        var logits = output.Logits.to(ScalarType.Float32);   // [B, L, V]; its gradient flows back as bf16
        output.Logits.Dispose();
        return output with { Logits = logits };
    }

    public Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator)
    {
        using var region = Autocast.Enter(Precision);
        return inner.Generate(labels, options, generator);
    }
}
