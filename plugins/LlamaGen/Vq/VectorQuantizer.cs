using F = TorchSharp.torch.nn.functional;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>
/// Nearest-code quantisation (official <c>VectorQuantizer</c>). With L2 normalisation both the latent vectors and the
/// codebook rows are normalised before the distance |z|² + |e|² − 2 z·e, and the output holds normalised rows.
/// </summary>
public sealed class VectorQuantizer : nn.Module
{
    /// <summary>Length of the official usage ring buffer.</summary>
    public const int UsageWindow = 65536;

    readonly Embedding embedding;
    readonly Tensor? codebook_used;   // float [65536]: the most recent chosen indices (official buffer)
    readonly Tensor? code_idle;       // int64 [V]: training forwards since each code was last chosen (dead-code restart)
    readonly VqOptions options;

    public VectorQuantizer(VqOptions options, Device? device) : base(nameof(VectorQuantizer))
    {
        this.options = options;
        embedding = nn.Embedding(options.CodebookSize, options.CodebookEmbedDim, device: device);
        using (torch.no_grad())
        {
            embedding.weight!.uniform_(-1.0 / options.CodebookSize, 1.0 / options.CodebookSize);
            if (options.CodebookL2Norm)
                embedding.weight!.copy_(F.normalize(embedding.weight!, 2, -1));
        }
        if (options.CodebookShowUsage) codebook_used = torch.zeros(UsageWindow, device: device);   // a persistent buffer
        // Persistent too, so a resumed training restarts exactly the codes an uninterrupted one would.
        if (options.RestartDeadCodesAfter > 0) code_idle = torch.zeros(options.CodebookSize, ScalarType.Int64, device: device);
        RegisterComponents();
    }

    internal Parameter Weight => embedding.weight!;

    internal Tensor? UsageBuffer => codebook_used;

    /// <summary>int64 [V]: training forwards since each code was last chosen; null unless restart_dead_codes_after &gt; 0.</summary>
    internal Tensor? IdleBuffer => code_idle;

    /// <summary>[V, D]: the rows the decoder consumes (normalised when codebook_l2_norm).</summary>
    public Tensor CodeVectors() => options.CodebookL2Norm ? F.normalize(embedding.weight!, 2, -1) : embedding.weight!.alias();

    /// <summary>Quantises z [B, D, h, w]; with <paramref name="withLosses"/> also the codebook/commitment/entropy losses.</summary>
    public QuantizerOutput forward(Tensor z, bool withLosses)
    {
        using var scope = torch.NewDisposeScope();
        long b = z.shape[0], d = z.shape[1], height = z.shape[2], width = z.shape[3];
        var latent = z.permute(0, 2, 3, 1).reshape(-1, d);                                   // [N, D], N = B·h·w
        if (options.CodebookL2Norm) latent = F.normalize(latent, 2, -1);
        // Before the codebook enters this forward's graph: an in-place change after it would break its backward.
        if (training && code_idle is not null) RestartDeadCodes(latent);
        var codes = CodeVectors();                                                           // [V, D]
        var distances = latent.square().sum(1, keepdim: true) + codes.square().sum(1)
                        - 2 * latent.matmul(codes.t());                                     // [N, V]
        var indices = distances.argmin(1);                                                   // [N]
        var quantized = codes.index_select(0, indices);                                      // [N, D]

        var losses = new Dictionary<string, Tensor>();
        if (withLosses)
        {
            losses["codebook"] = (quantized - latent.detach()).square().mean().MoveToOuterDisposeScope();
            losses["commitment"] = (quantized.detach() - latent).square().mean().MoveToOuterDisposeScope();
            if (options.EntropyLossRatio > 0)
                losses["entropy"] = EntropyLoss(-distances, options.EntropyTemperature).MoveToOuterDisposeScope();
        }
        if (training && codebook_used is not null) RecordUsage(indices);
        if (training && code_idle is not null) CountIdleForwards(indices);

        var straightThrough = latent + (quantized - latent).detach();                        // [N, D]
        var output = straightThrough.view(b, height, width, d).permute(0, 3, 1, 2);          // [B, D, h, w]
        return new QuantizerOutput(output.MoveToOuterDisposeScope(), indices.view(b, height * width).MoveToOuterDisposeScope(), losses);
    }

    /// <summary>
    /// Official <c>compute_entropy_loss</c>: mean per-sample entropy of softmax(affinity / T) minus the entropy of
    /// the batch-mean distribution (low when every sample is confident and the batch uses many codes).
    /// </summary>
    static Tensor EntropyLoss(Tensor affinity, double temperature)                          // [N, V]
    {
        var scaled = affinity / temperature;
        var probabilities = scaled.softmax(-1);
        var logProbabilities = (scaled + 1e-5).log_softmax(-1);
        var mean = probabilities.mean([0]);                                                  // [V]
        var meanEntropy = -(mean * (mean + 1e-5).log()).sum();
        var sampleEntropy = -(probabilities * logProbabilities).sum(-1).mean();
        return sampleEntropy - meanEntropy;
    }

    /// <summary>
    /// Re-seeds every code idle for restart_dead_codes_after forwards with one of this batch's encoder outputs, the
    /// worst-quantised first (largest distance to their nearest code; the k-th dead code by index gets the k-th worst,
    /// cycling when there are more dead codes than outputs). Deterministic (no random draw) and free of host syncs: the
    /// rows are chosen for every code and kept only where the code is dead. The optimizer's moments of a re-seeded row
    /// are left as they are.
    /// </summary>
    void RestartDeadCodes(Tensor latent)                                                    // [N, D]
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var dead = code_idle!.ge(options.RestartDeadCodesAfter);                             // [V] bool
        var codes = CodeVectors();                                                           // [V, D]
        var error = (latent.square().sum(1, keepdim: true) + codes.square().sum(1)
                     - 2 * latent.matmul(codes.t())).amin(1);                                // [N]
        long k = Math.Min(latent.shape[0], options.CodebookSize);
        var worst = error.topk((int)k).indexes;                                              // [k], worst first
        var rank = (dead.to(ScalarType.Int64).cumsum(0) - 1).clamp_min(0).remainder(k);      // [V]: place among the dead
        var seeds = latent.detach().index_select(0, worst.index_select(0, rank));            // [V, D]
        Weight.copy_(torch.where(dead.unsqueeze(1), seeds.to(Weight.dtype), Weight));
        code_idle.masked_fill_(dead, 0);
    }

    /// <summary>Counts one more idle forward for every code, and resets the codes chosen in this one.</summary>
    void CountIdleForwards(Tensor indices)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var chosen = torch.bincount(indices, minlength: options.CodebookSize).gt(0);          // [V] bool
        code_idle!.add_(1).masked_fill_(chosen, 0);
    }

    /// <summary>Shifts the newest indices into the usage ring (official behaviour, kept for checkpoint compatibility).</summary>
    void RecordUsage(Tensor indices)
    {
        using var _ = torch.no_grad();
        var recent = indices.to(codebook_used!.dtype);
        long n = Math.Min(recent.shape[0], UsageWindow);
        recent = recent.narrow(0, recent.shape[0] - n, n);
        if (n < UsageWindow)
        {
            var kept = codebook_used.narrow(0, n, UsageWindow - n).clone();
            codebook_used.narrow(0, 0, UsageWindow - n).copy_(kept);
        }
        codebook_used.narrow(0, UsageWindow - n, n).copy_(recent);
    }
}

/// <summary>What the quantizer returns for a latent [B, D, h, w].</summary>
/// <param name="Quantized">[B, D, h, w]: the chosen code vectors, with straight-through gradients to the latent.</param>
/// <param name="Indices">int64 [B, h·w]: the chosen codes in raster order.</param>
/// <param name="Losses">Unweighted <c>codebook</c>, <c>commitment</c> (and <c>entropy</c>) losses; empty when not asked for.</param>
public sealed record QuantizerOutput(Tensor Quantized, Tensor Indices, IReadOnlyDictionary<string, Tensor> Losses);
