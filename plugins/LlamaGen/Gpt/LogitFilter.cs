using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// LlamaGen's <c>sample()</c>: temperature, then top-k, then top-p (nucleus) filtering, then a multinomial draw; the same
/// filter on each stage of cluster-aware sampling.
/// </summary>
public static class LogitFilter
{
    /// <summary>logits [B, V] → the filtered logits scaled by the temperature (removed entries are −∞).</summary>
    public static Tensor Apply(Tensor logits, SamplingOptions options)
    {
        using var scope = torch.NewDisposeScope();
        var scaled = logits / Math.Max(options.Temperature, 1e-5);
        if (options.TopK > 0)
        {
            int k = (int)Math.Min(options.TopK, logits.shape[^1]);
            var kth = scaled.topk(k, -1).values.narrow(-1, k - 1, 1);                      // [B, 1]
            scaled = scaled.masked_fill(scaled.lt(kth), double.NegativeInfinity);          // ties at the k-th survive
        }
        if (options.TopP < 1.0)
        {
            var (sorted, order) = scaled.sort(-1, descending: true);                      // [B, V]
            var cumulative = sorted.softmax(-1).cumsum(-1);
            var beyond = cumulative.gt(options.TopP);
            // Shift right so the token that crosses the threshold is kept, and the most likely one always is.
            var remove = torch.cat([torch.zeros_like(beyond.narrow(-1, 0, 1)), beyond.narrow(-1, 0, beyond.shape[^1] - 1)], -1);
            scaled = scaled.masked_fill(remove.scatter(-1, order, remove), double.NegativeInfinity);
        }
        return scaled.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// logits [B, V] → int64 [B]: one index per row drawn from the filtered softmax, or, with
    /// <see cref="SamplingOptions.Clusters"/>, from cluster-aware sampling's joint distribution (same filter per stage).
    /// </summary>
    public static Tensor Sample(Tensor logits, SamplingOptions options, torch.Generator? generator)
    {
        using var scope = torch.NewDisposeScope();
        var probabilities = options.Clusters is { } clusters
            ? clusters.Probabilities(logits, options, Apply)                                // [B, V]
            : Apply(logits, options).softmax(-1);
        return torch.multinomial(probabilities, 1, generator: generator).squeeze(-1).MoveToOuterDisposeScope();
    }
}
