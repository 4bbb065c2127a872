using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// LlamaGen's GPT as an <see cref="IGenerator"/>: teacher forcing as IAR's train_c2i.py (input = class token +
/// tokens[:, :−1], targets = tokens) and <see cref="NextTokenSampler"/> for generation.
/// </summary>
public sealed class GptGenerator : IGenerator
{
    readonly Transformer model;

    public GptGenerator(GptConfig config, string preset, Device? device = null)
    {
        model = new Transformer(config, device);
        Info = new GeneratorInfo(LlamaGenPlugin.PluginName, preset, GeneratorKind.NextToken, config.VocabSize,
            config.NumClasses, TokenLayout.Grid(config.Grid.Height, config.Grid.Width), config.HasNullClass, SupportsClusterSampling: true);
    }

    public GeneratorInfo Info { get; }

    public nn.Module Module => model;

    public Transformer Network => model;

    public IReadOnlyList<VocabularyParameter> VocabularyParameters =>
    [
        new("tok_embeddings.weight", model.TokenEmbeddingWeight, 0),
        new("output.weight", model.OutputWeight, 0),
    ];

    public GeneratorOutput Forward(TokenBatch batch)
    {
        int length = Info.Layout.SequenceLength;
        var tokens = batch.Tokens;
        if (tokens.dim() != 2 || tokens.shape[1] != length || tokens.dtype != ScalarType.Int64)
            throw new ArgumentException(
                $"Tokens must be int64 [B, {length}] for the {Info.Layout} token grid of this generator, but are {tokens.dtype} [{string.Join(", ", tokens.shape)}].");
        if (batch.Labels.shape.Length != 1 || batch.Labels.shape[0] != tokens.shape[0])
            throw new ArgumentException($"Labels must be int64 [{tokens.shape[0]}], one per token sequence, but are [{string.Join(", ", batch.Labels.shape)}].");
        // Value ranges are validated where tokens enter training (TokenCache on open and gather; GeneratorObjective
        // against this generator's vocabulary, classes and null class). Reading values here would stall an accelerator
        // once per check, so the guard for direct callers runs only on CPU tensors, where it costs no synchronisation.
        bool readable = HostRead.IsFree(tokens);
        if (readable && tokens.NumberOfElements > 0 && (HostRead.Long(tokens.min()) < 0 || HostRead.Long(tokens.max()) >= Info.VocabularySize))
            throw new ArgumentException($"Token indices must lie in [0, {Info.VocabularySize}) (the tokenizer's vocabulary).");
        if (readable) CheckLabels(batch.Labels);

        using var scope = torch.NewDisposeScope();
        var labels = batch.Labels;
        if (batch.DropLabels is { } drop)
        {
            if (!Info.SupportsGuidance && readable && HostRead.Bool(drop.any()))
                throw new ConfigurationException(
                    "generator.options.class_dropout_prob = 0 built this GPT without a null class, so labels cannot be dropped; set class_dropout_prob > 0.");
            labels = labels.masked_fill(drop, Info.NumClasses);   // [B]: the null class where dropped
        }
        var logits = model.forward(labels, tokens.narrow(1, 0, length - 1), masks: batch.Masks);  // [B, L, V]
        return new GeneratorOutput(logits.MoveToOuterDisposeScope(), tokens);
    }

    public Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator) =>
        Generate(labels, options, generator, null);

    /// <summary><see cref="IGenerator.Generate"/>, optionally reporting the logits of every step ([B, V], guided).</summary>
    public Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator, Action<Tensor>? stepLogits)
    {
        options.Validate();
        if (options.CfgScale != 1.0 && !Info.SupportsGuidance)
            throw new ConfigurationException(
                $"sampling.cfg_scale = {options.CfgScale} needs a null class, but this GPT was built with class_dropout_prob = 0; use cfg_scale 1 or a model with class_dropout_prob > 0.");
        if (labels.dim() != 1 || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"Labels must be int64 [B], but are {labels.dtype} [{string.Join(", ", labels.shape)}].");
        CheckLabels(labels);

        // Sampling never uses dropout, whatever mode the caller left the module in.
        bool wasTraining = model.training;
        model.eval();
        try
        {
            return NextTokenSampler.Sample(model, labels, options, generator, stepLogits);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    void CheckLabels(Tensor labels)
    {
        if (labels.NumberOfElements == 0) return;
        long min = HostRead.Long(labels.min()), max = HostRead.Long(labels.max());
        if (min < 0 || max >= Info.NumClasses)
            throw new ArgumentException(
                $"Class label {(min < 0 ? min : max)} is out of range; this generator has {Info.NumClasses} classes, so labels must lie in [0, {Info.NumClasses}).");
    }
}
