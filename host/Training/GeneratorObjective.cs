using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Iar;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// Teacher-forced training of a generator on cached tokens: per sample the trainer's generator picks the stored
/// variant (original or flipped, when the cache has both) and then whether its label is dropped for
/// classifier-free guidance; the generator's loss (<see cref="GeneratorLoss"/>: token CE, cluster CE, …) sees the
/// logits and targets.
/// </summary>
public sealed class GeneratorObjective : ITrainingObjective
{
    readonly IGenerator generator;
    readonly ITokenSource tokens;
    readonly GeneratorLoss loss;
    readonly double labelDrop;
    readonly Device device;

    /// <param name="labelDrop">Probability of replacing a label by the null class; 0 when the generator has no guidance.</param>
    /// <exception cref="ConfigurationException">The tokens do not fit the generator (vocabulary, length, classes).</exception>
    public GeneratorObjective(IGenerator generator, ITokenSource tokens, GeneratorLoss loss, double labelDrop, Device device)
    {
        var info = generator.Info;
        if (tokens.VocabularySize != info.VocabularySize)
            throw new ConfigurationException(
                $"Generator {info.Plugin}/{info.Preset} predicts {info.VocabularySize} indices but the cached tokens use a vocabulary of {tokens.VocabularySize}.");
        if (tokens.SequenceLength != info.Layout.SequenceLength)
            throw new ConfigurationException(
                $"Generator {info.Plugin}/{info.Preset} models {info.Layout.SequenceLength} tokens per image ({info.Layout}) but the cached images have {tokens.SequenceLength}.");
        if (tokens.NumClasses > info.NumClasses)
            throw new ConfigurationException(
                $"Generator {info.Plugin}/{info.Preset} has {info.NumClasses} classes but the data has {tokens.NumClasses}.");
        if (labelDrop > 0 && !info.SupportsGuidance)
            throw new ConfigurationException(
                $"training.label_drop = {labelDrop} needs a generator with a null class, but {info.Plugin}/{info.Preset} has none; set training.label_drop: 0.");
        this.generator = generator;
        this.tokens = tokens;
        this.loss = loss;
        this.labelDrop = labelDrop;
        this.device = device;
        Terms = loss.Terms.Select(t => new LossTermInfo(t.Term.Name, t.Weight)).ToArray();
    }

    public nn.Module Module => generator.Module;

    public IReadOnlyList<LossTermInfo> Terms { get; }

    public int DatasetSize => tokens.Count;

    public string ThroughputUnit => "tokens";

    public long UnitsPerSample => tokens.SequenceLength;

    public IEnumerable<LossValues> Forward(Tensor indices, torch.Generator random, BatchShare share, ulong maskKey)
    {
        long batch = indices.shape[0];
        // Draw order is part of the determinism contract: variants first, then label dropout, for the whole batch.
        var variants = tokens.Variants > 1 ? torch.randint(0, tokens.Variants, [batch], generator: random) : null;
        var drop = labelDrop > 0 ? torch.rand([batch], generator: random).lt(labelDrop) : null;
        return Parts();

        IEnumerable<LossValues> Parts()
        {
            foreach (var (start, size) in share.Ranges(batch))
            {
                var data = tokens.Gather(indices.narrow(0, start, size), variants?.narrow(0, start, size));
                // Dropout keyed by (step, global sample): this part's masks are those of rows start … of one whole-batch forward.
                var output = generator.Forward(new TokenBatch(data.Tokens.to(device), data.Labels.to(device), drop?.narrow(0, start, size).to(device),
                    new MaskKey(maskKey, start)));
                yield return loss.Compute(output.Logits, output.Targets);
            }
        }
    }
}
