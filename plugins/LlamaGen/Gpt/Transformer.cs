using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// LlamaGen's class-conditional GPT (official <c>Transformer</c>, state-dict keys as officially): a class token, then
/// the image tokens in raster order, through pre-norm blocks with 2-D RoPE, RMSNorm and SwiGLU, into a bias-free head.
/// </summary>
public sealed class Transformer : nn.Module
{
    readonly LabelEmbedder cls_embedding;
    readonly Embedding tok_embeddings;
    readonly ModuleList<TransformerBlock> layers;
    readonly RMSNorm norm;
    readonly Linear output;
    readonly RotaryEmbedding2D rope;

    /// <param name="device">Where the parameters live; the meta device builds the shapes without memory.</param>
    public Transformer(GptConfig config, Device? device = null) : base(nameof(Transformer))
    {
        Config = config;
        var o = config.Options;
        cls_embedding = new LabelEmbedder(config.NumClasses, config.HasNullClass, o.Dim, device);
        tok_embeddings = nn.Embedding(config.VocabSize, o.Dim, device: device);
        layers = new ModuleList<TransformerBlock>(Enumerable.Range(0, o.NLayer)
            .Select(i => new TransformerBlock(config, o.NLayer == 1 ? 0 : o.DropPathRate * i / (o.NLayer - 1), device))
            .ToArray());
        norm = new RMSNorm(o.Dim, o.NormEps, device);
        output = nn.Linear(o.Dim, config.VocabSize, hasBias: false, device: device);
        rope = new RotaryEmbedding2D(config.Grid, config.HeadDim, o.RopeBase, GptConfig.ClassTokens);
        RegisterComponents();
        InitializeWeights();
    }

    public GptConfig Config { get; }

    /// <summary>The official <c>freqs_cis</c>: float [1 + H·W, hd/2, 2], (cos, sin), class row zero.</summary>
    public Tensor FreqsCis => rope.Table;

    internal Parameter TokenEmbeddingWeight => tok_embeddings.weight!;

    internal Parameter OutputWeight => output.weight!;

    /// <summary>
    /// Teacher forcing: labels int64 [B] (null class already substituted where dropped), inputs int64 [B, L−1]
    /// → logits [B, L, V]; position 0 (the class token) predicts the first image token.
    /// </summary>
    /// <param name="probe">Receives intermediates by official module name (<c>layers.0</c>, <c>norm</c>) for debugging.</param>
    /// <param name="masks">What training's dropout masks are keyed by (<see cref="TokenBatch.Masks"/>); null draws them from the global generator.</param>
    public Tensor forward(Tensor labels, Tensor inputs, Action<string, Tensor>? probe = null, MaskKey? masks = null)
    {
        using var scope = torch.NewDisposeScope();
        var embeddings = torch.cat([EmbedClasses(labels), EmbedTokens(inputs)], 1);   // [B, L, D]
        var logits = Logits(Hidden(embeddings, 0, null, probe, new DropoutMasks(masks)));  // [B, L, V]
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>int64 [B] → [B, 1, D].</summary>
    public Tensor EmbedClasses(Tensor labels) => cls_embedding.forward(labels);

    /// <summary>int64 [B, S] → [B, S, D].</summary>
    public Tensor EmbedTokens(Tensor tokens) => tok_embeddings.forward(tokens);

    /// <summary>
    /// Embeddings [B, S, D] at positions start … start+S−1 → final-norm hidden states [B, S, D]. With caches the
    /// new keys/values are stored and earlier ones attended to (one cache per layer); without, attention is causal
    /// within the given positions, which must then start at 0.
    /// </summary>
    /// <param name="masks">In training, the forward pass's dropout masks; null draws them from the global generator.</param>
    public Tensor Hidden(Tensor embeddings, int start, IReadOnlyList<KVCache>? caches, Action<string, Tensor>? probe = null, DropoutMasks? masks = null)
    {
        if (caches is null && start != 0)
            throw new ArgumentException($"Without KV caches the sequence must start at position 0, not {start}.", nameof(start));
        using var scope = torch.NewDisposeScope();
        masks ??= new DropoutMasks(null);
        double tokenDropout = Config.Options.TokenDropoutP;
        var h = training && tokenDropout > 0 ? masks.Apply(embeddings, tokenDropout) : embeddings;
        for (int i = 0; i < layers.Count; i++)
        {
            h = layers[i].forward(h, rope, start, caches?[i], masks);
            probe?.Invoke($"layers.{i}", h);
        }
        h = norm.forward(h);
        probe?.Invoke("norm", h);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Hidden states [..., D] → logits [..., V].</summary>
    public Tensor Logits(Tensor hidden) => Autocast.Linear(output, hidden);

    /// <summary>
    /// One empty cache per layer for <paramref name="batch"/> sequences of up to <paramref name="capacity"/> positions, in
    /// the type attention runs in (<see cref="Autocast.AttentionType"/>: bf16 on an accelerator inside a region).
    /// </summary>
    public IReadOnlyList<KVCache> CreateCaches(long batch, int capacity)
    {
        var weight = TokenEmbeddingWeight;
        return Enumerable.Range(0, layers.Count)
            .Select(_ => new KVCache(batch, Config.KvHeads, capacity, Config.HeadDim, Autocast.AttentionType(weight.device) ?? weight.dtype, weight.device))
            .ToArray();
    }

    /// <summary>Official init: every Linear and Embedding weight ~ N(0, initializer_range), the head zero (or output_init_std).</summary>
    void InitializeWeights()
    {
        using var _ = torch.no_grad();
        double std = Config.Options.InitializerRange;
        foreach (var (_, module) in named_modules())
        {
            if (module is Linear linear) linear.weight!.normal_(0, std);
            else if (module is Embedding embedding) embedding.weight!.normal_(0, std);
        }
        if (Config.Options.OutputInitStd > 0) output.weight!.normal_(0, Config.Options.OutputInitStd);
        else output.weight!.zero_();
    }
}
