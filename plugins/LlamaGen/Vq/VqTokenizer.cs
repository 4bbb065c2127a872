using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>LlamaGen's VQ model as an <see cref="ITokenizer"/>: images in [−1, 1] ↔ codebook indices over one grid.</summary>
public sealed class VqTokenizer : ITokenizer
{
    readonly VQModel model;

    public VqTokenizer(VqConfig config, string preset, Device? device = null)
    {
        model = new VQModel(config, device);
        var o = config.Options;
        Info = new TokenizerInfo(LlamaGenPlugin.PluginName, preset, o.CodebookSize, o.CodebookEmbedDim,
            TokenLayout.Grid(config.Grid.Height, config.Grid.Width), config.Image);
        var terms = new List<ITokenizerLossTerm>
        {
            new ReconstructionLoss(o.ReconstructionWeight),
            new QuantizerLossTerm("codebook", 1.0),
            new QuantizerLossTerm("commitment", o.CommitLossBeta),
        };
        if (o.EntropyLossRatio > 0) terms.Add(new QuantizerLossTerm("entropy", o.EntropyLossRatio));
        TrainingLossTerms = terms;
    }

    public TokenizerInfo Info { get; }

    public nn.Module Module => model;

    public VQModel Network => model;

    /// <summary>[V, D]: a detached copy of the raw codebook rows (<c>quantize.embedding.weight</c>).</summary>
    public Tensor Codebook => model.Quantizer.Weight.detach().clone();

    /// <summary>
    /// The codebook rows, and the idle counts of the dead-code restart when it is on. (The usage ring
    /// <c>quantize.codebook_used</c> holds index values, not rows per index, so it is not permuted; it only feeds
    /// <see cref="RecentUsage"/>.)
    /// </summary>
    public IReadOnlyList<VocabularyParameter> VocabularyParameters =>
        model.Quantizer.IdleBuffer is { } idle
            ? [new("quantize.embedding.weight", model.Quantizer.Weight, 0), new("quantize.code_idle", idle, 0)]
            : [new("quantize.embedding.weight", model.Quantizer.Weight, 0)];

    public IReadOnlyList<ITokenizerLossTerm> TrainingLossTerms { get; }

    public Tensor Encode(Tensor images)
    {
        Info.CheckImages(images);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return model.Encode(images, withLosses: false).Indices.MoveToOuterDisposeScope();              // [B, h·w]
    }

    public Tensor Decode(Tensor tokens)
    {
        CheckTokens(tokens);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return model.DecodeCodes(tokens).clamp(-1, 1).MoveToOuterDisposeScope();                       // [B, C, H, W]
    }

    /// <summary>int64 [...] → [..., D]: the (L2-normalised) code vectors the decoder consumes.</summary>
    public Tensor LookupCodes(Tensor tokens)
    {
        CheckRange(tokens);
        using var scope = torch.NewDisposeScope();
        var codes = model.Quantizer.CodeVectors().index_select(0, tokens.flatten());
        return codes.reshape([.. tokens.shape, Info.CodeDim]).MoveToOuterDisposeScope();
    }

    public TokenizerOutput Reconstruct(Tensor images)
    {
        Info.CheckImages(images);
        using var scope = torch.NewDisposeScope();
        var quantized = model.Encode(images, withLosses: true);
        var reconstruction = model.Decode(quantized.Quantized);
        var losses = quantized.Losses.ToDictionary(kv => kv.Key, kv => kv.Value.MoveToOuterDisposeScope());
        return new TokenizerOutput(reconstruction.MoveToOuterDisposeScope(), quantized.Indices.MoveToOuterDisposeScope(), losses);
    }

    /// <summary>
    /// The official codebook_usage: distinct indices among the last 65536 chosen in training, over V (the ring starts
    /// as zeros, so index 0 counts until it is filled). Null when built with codebook_show_usage = false.
    /// </summary>
    public double? RecentUsage()
    {
        if (model.Quantizer.UsageBuffer is not { } ring) return null;
        using var unique = ring.unique().output;
        return (double)unique.shape[0] / Info.VocabularySize;
    }

    void CheckTokens(Tensor tokens)
    {
        Info.CheckTokens(tokens);
        CheckRange(tokens);
    }

    void CheckRange(Tensor tokens)
    {
        if (tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"Token indices must be int64, but are {tokens.dtype}.");
        if (tokens.NumberOfElements > 0 && (tokens.min().item<long>() < 0 || tokens.max().item<long>() >= Info.VocabularySize))
            throw new ArgumentException($"Token indices must lie in [0, {Info.VocabularySize}) (this tokenizer's codebook size).");
    }
}
