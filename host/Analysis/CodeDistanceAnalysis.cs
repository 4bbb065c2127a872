using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Analysis;

/// <summary>How a token is replaced in <see cref="CodeDistanceAnalysis"/>.</summary>
public enum Replacement
{
    /// <summary>Its rank-k nearest other code over the whole codebook.</summary>
    Nearest,

    /// <summary>Its rank-k nearest other code of its own cluster (k ≤ m − 1).</summary>
    NearestInCluster,

    /// <summary>A uniformly random other code of its own cluster.</summary>
    RandomInCluster,

    /// <summary>A uniformly random other code.</summary>
    Random,
}

/// <summary>One condition of the analysis: every token of every image replaced, then decoded.</summary>
/// <param name="Rank">k for the nearest-code conditions; 0 for the random ones.</param>
/// <param name="CodeDistance">Mean squared distance between the replaced and the replacing code vectors (as the decoder consumes them).</param>
/// <param name="Mse">Mean squared error of the decoded images against the tokenizer's own reconstruction, pixels in [0, 1].</param>
/// <param name="Psnr">Mean over images of 10·log10(1 / MSE) against the reconstruction (dB).</param>
public sealed record CodeDistanceRow(Replacement Replacement, int Rank, double CodeDistance, double Mse, double Psnr);

/// <summary>
/// The premise of IAR (the paper's Figure 2) measured on a tokenizer: encode held-out images, replace every token by a
/// code at increasing distance — its k-th nearest code, its k-th nearest code inside its cluster, a random code of its
/// cluster, a random code — decode, and compare with the reconstruction from the true tokens. If nearby codes decode
/// to near-identical patches, PSNR falls slowly with k and cluster members are much better substitutes than random
/// codes. Multi-scale tokenizers (VAR) have every token of every scale replaced the same way.
/// </summary>
public static class CodeDistanceAnalysis
{
    /// <summary>The default ranks k: 1, 2, 4, … up to V − 1 (and m − 1 inside clusters).</summary>
    public static int[] DefaultRanks(int vocabularySize) =>
        Enumerable.Range(0, 31).Select(i => 1 << i).TakeWhile(k => k < vocabularySize).Append(vocabularySize - 1).Distinct().ToArray();

    /// <param name="tokenizer">In its own (original) numbering, eval mode.</param>
    /// <param name="images">float [N, C, H, W] in [−1, 1].</param>
    /// <param name="clusterOfCode">[V]: the cluster of every code in the tokenizer's numbering.</param>
    /// <param name="ranks">
    /// The ranks k of the nearest-code conditions; inside clusters those below the smallest cluster's m − 1, and m − 1.
    /// </param>
    /// <param name="seed">Seeds the random replacements.</param>
    public static IReadOnlyList<CodeDistanceRow> Run(ITokenizer tokenizer, Tensor images, IReadOnlyList<int> clusterOfCode,
        IReadOnlyList<int> ranks, ulong seed, int batchSize = 100)
    {
        int v = tokenizer.Info.VocabularySize;
        if (clusterOfCode.Count != v)
            throw new ArgumentException($"The cluster table covers {clusterOfCode.Count} codes but the tokenizer has {v}.", nameof(clusterOfCode));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var codes = tokenizer.LookupCodes(torch.arange(v, ScalarType.Int64)).to(ScalarType.Float64).cpu();   // [V, D]
        var tokens = Batched(images, batchSize, tokenizer.Encode);                                          // [N, L]
        var reference = Batched(tokens, batchSize, tokenizer.Decode);                                       // [N, C, H, W]

        var cluster = torch.tensor(clusterOfCode.Select(c => (long)c).ToArray());                           // [V]
        var distances = torch.cdist(codes, codes).square();                                                 // [V, V]
        var self = torch.eye(v, dtype: ScalarType.Bool);
        var order = distances.masked_fill(self, double.PositiveInfinity).argsort(1);                        // [V, V−1 used]
        var sameCluster = cluster.unsqueeze(1).eq(cluster.unsqueeze(0)).logical_and(self.logical_not());    // [V, V]
        var inClusterOrder = distances.masked_fill(sameCluster.logical_not(), double.PositiveInfinity).argsort(1);
        int smallest = (int)sameCluster.sum(1).min().item<long>();                                          // m − 1 for equal sizes

        var rows = new List<CodeDistanceRow>();
        var generator = new torch.Generator(seed);
        foreach (int k in ranks.Where(k => k >= 1 && k < v))
            rows.Add(Measure(Replacement.Nearest, k, order.select(1, k - 1)));
        // Inside clusters the ranks end at the last member (m − 1), so that row is always there.
        foreach (int k in ranks.Where(k => k >= 1 && k < smallest).Append(smallest).Where(k => k >= 1).Distinct())
            rows.Add(Measure(Replacement.NearestInCluster, k, inClusterOrder.select(1, k - 1)));
        if (smallest >= 1)
        {
            // A uniform position among each code's other cluster members (the first `members` entries of its in-cluster order).
            var members = sameCluster.sum(1);                                                                // [V]
            var position = (torch.rand(v, ScalarType.Float64, generator: generator) * members).floor().to(ScalarType.Int64).minimum(members - 1);
            rows.Add(Measure(Replacement.RandomInCluster, 0, inClusterOrder.gather(1, position.unsqueeze(1)).squeeze(1)));
        }
        var other = (torch.arange(v, ScalarType.Int64) + torch.randint(1, v, [v], generator: generator)).remainder(v);
        rows.Add(Measure(Replacement.Random, 0, other));
        return rows;

        CodeDistanceRow Measure(Replacement replacement, int rank, Tensor substitute)                        // [V]: code → substitute
        {
            using var inner = torch.NewDisposeScope();
            var replaced = substitute.index_select(0, tokens.flatten()).view_as(tokens);                    // [N, L]
            var decoded = Batched(replaced, batchSize, tokenizer.Decode);
            var mse = (decoded - reference).div(2).square().flatten(1).mean([1]).to(ScalarType.Float64);     // [N], on [0, 1]
            var psnr = (-10.0 * mse.clamp_min(1e-10).log10()).mean().item<double>();
            double codeDistance = (codes.index_select(0, substitute) - codes).square().sum(1)
                .index_select(0, tokens.flatten()).mean().item<double>();
            return new CodeDistanceRow(replacement, rank, codeDistance, mse.mean().item<double>(), psnr);
        }
    }

    static Tensor Batched(Tensor input, int batchSize, Func<Tensor, Tensor> step)
    {
        var parts = new List<Tensor>();
        for (long start = 0; start < input.shape[0]; start += batchSize)
            parts.Add(step(input.narrow(0, start, Math.Min(batchSize, input.shape[0] - start))).cpu());
        return torch.cat(parts, 0);
    }
}
