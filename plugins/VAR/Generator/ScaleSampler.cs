using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// Draws one scale's indices from its logits (official <c>sample_with_top_k_top_p_</c>): temperature, then top-k
/// (every logit below the k-th largest is removed, so ties survive), then top-p (ascending sort; tokens whose
/// cumulative probability is ≤ 1 − p are removed, the most likely always kept), then multinomial.
/// </summary>
internal static class ScaleSampler
{
    /// <summary>
    /// logits [B, l, V] → int64 [B, l]; with <see cref="SamplingOptions.Clusters"/>, drawn from cluster-aware sampling's
    /// joint distribution (this filter on the cluster stage and on the token stage).
    /// </summary>
    public static Tensor Sample(Tensor logits, SamplingOptions options, torch.Generator? generator)
    {
        using var scope = torch.NewDisposeScope();
        long b = logits.shape[0], l = logits.shape[1], v = logits.shape[2];
        var rows = logits.view(-1, v);                                                          // [B·l, V]
        var probabilities = options.Clusters is { } clusters
            ? clusters.Probabilities(rows, options, Filter)
            : Filter(rows, options).softmax(-1);
        return torch.multinomial(probabilities, 1, generator: generator).view(b, l).MoveToOuterDisposeScope();
    }

    /// <summary>logits [R, K] → temperature-scaled logits with the removed entries at −∞ (rows are independent).</summary>
    /// <remarks>No scope of its own: it may return <paramref name="logits"/> itself, and its callers run inside one.</remarks>
    static Tensor Filter(Tensor logits, SamplingOptions options)
    {
        long v = logits.shape[^1];
        var filtered = options.Temperature == 1 ? logits : logits / options.Temperature;
        if (options.TopK > 0 && options.TopK < v)
        {
            var kth = filtered.topk(options.TopK, dim: -1, largest: true, sorted: false).values.amin([-1L], keepdim: true);
            filtered = filtered.masked_fill(filtered < kth, double.NegativeInfinity);
        }
        if (options.TopP < 1)
        {
            var (sorted, order) = filtered.sort(dim: -1, descending: false);
            var remove = sorted.softmax(-1).cumsum(-1) <= 1 - options.TopP;
            remove[TensorIndex.Ellipsis, -1] = torch.tensor(false);
            filtered = filtered.masked_fill(remove.scatter(-1, order, remove), double.NegativeInfinity);
        }
        return filtered;
    }
}
