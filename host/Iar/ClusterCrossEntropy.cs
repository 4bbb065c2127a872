using IAR.Abstractions;
using IAR.Host.Iar;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// IAR's cluster-oriented cross-entropy: the logit of cluster j is the logsumexp of its token logits (the contiguous
/// block <c>Offsets[j] … Offsets[j+1]−1</c> of the rearranged numbering) and the loss is the cross-entropy of these
/// cluster logits against the target's cluster (<c>target / m</c> for equal clusters). Summed with the token
/// cross-entropy as <c>L = L_token + λ·L_cluster</c> (official λ = 1, no label smoothing; λ is the objective's,
/// <see cref="Training.GeneratorLoss"/>). Clusters of unequal size
/// (the plain k-means ablation) are supported: the blocks are padded with −∞ before the logsumexp.
/// <para>
/// Computed from the token log-probabilities: log softmax(cluster logits)_j = logsumexp of the token log-probabilities
/// of cluster j, because both share the normaliser logsumexp(all logits). Without label smoothing only the target's
/// cluster is needed, so the term reads m log-probabilities per position (a gather) rather than all V, and shares
/// the one log-softmax pass with the token CE (<see cref="Training.GeneratorLoss.Compute"/>).
/// </para>
/// </summary>
public sealed class ClusterCrossEntropy : ILogProbabilityLossTerm
{
    readonly Dictionary<(DeviceType, int), Tensor> paddedIndex = [];
    readonly int widestCluster;

    /// <param name="layout">The clusters of the generator's (rearranged) vocabulary.</param>
    /// <param name="labelSmoothing">Label smoothing of the cluster cross-entropy, in [0, 1).</param>
    /// <exception cref="ConfigurationException">Label smoothing outside [0, 1).</exception>
    public ClusterCrossEntropy(ClusterLayout layout, double labelSmoothing = 0.0)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
            throw new ConfigurationException($"iar.label_smoothing = {labelSmoothing} is invalid; a value in [0, 1) is accepted.");
        Layout = layout;
        LabelSmoothing = labelSmoothing;
        widestCluster = layout.Sizes.Max();
    }

    public string Name => "cluster_ce";

    public double LabelSmoothing { get; }

    public ClusterLayout Layout { get; }

    /// <summary>float [..., V] token logits → float [..., n] cluster logits (logsumexp over each block).</summary>
    public Tensor ClusterLogits(Tensor logits)
    {
        RequireVocabulary(logits, nameof(logits));
        var batchShape = logits.shape[..^1];
        if (Layout.UniformSize is int m)
            return logits.reshape([.. batchShape, Layout.Count, m]).logsumexp(-1, keepdim: false);

        using var scope = torch.NewDisposeScope();
        var padding = torch.full([.. batchShape, 1], double.NegativeInfinity, dtype: logits.dtype, device: logits.device);
        var extended = torch.cat([logits, padding], -1);                                           // [..., V + 1]
        var blocks = extended.index_select(-1, PaddedIndex(logits.device))
            .reshape([.. batchShape, Layout.Count, widestCluster]);                               // [..., n, widest]
        return blocks.logsumexp(-1, keepdim: false).MoveToOuterDisposeScope();
    }

    /// <summary>int64 [...] token targets → int64 [...] cluster targets.</summary>
    public Tensor ClusterTargets(Tensor targets) => Layout.ClusterOf(targets);

    /// <param name="logits">float [B, L, V] in the rearranged numbering.</param>
    /// <param name="targets">int64 [B, L] in the rearranged numbering.</param>
    public Tensor Compute(Tensor logits, Tensor targets)
    {
        RequireVocabulary(logits, nameof(logits));
        using var scope = torch.NewDisposeScope();
        var logProbabilities = logits.reshape(-1, Layout.VocabularySize).log_softmax(-1);
        return ComputeFromLogProbabilities(logProbabilities, targets.reshape(-1)).MoveToOuterDisposeScope();
    }

    /// <param name="logProbabilities">float [N, V] = log_softmax(logits), rearranged numbering.</param>
    /// <param name="targets">int64 [N], rearranged numbering.</param>
    public Tensor ComputeFromLogProbabilities(Tensor logProbabilities, Tensor targets)
    {
        RequireVocabulary(logProbabilities, nameof(logProbabilities));
        using var scope = torch.NewDisposeScope();
        var clusterTargets = ClusterTargets(targets);                                              // [N]
        if (LabelSmoothing > 0)
        {
            // Smoothing needs every cluster: PyTorch's (1 − ε)·NLL + ε·mean over the n clusters of −log q.
            var clusterLogProbabilities = ClusterLogits(logProbabilities);                         // [N, n], normalised
            var nll = clusterLogProbabilities.gather(1, clusterTargets.unsqueeze(1)).neg().mean();
            return ((1 - LabelSmoothing) * nll - LabelSmoothing * clusterLogProbabilities.mean()).MoveToOuterDisposeScope();
        }
        // Only the target's cluster: its m log-probabilities per position.
        var index = PaddedIndex(logProbabilities.device).view(Layout.Count, widestCluster).index_select(0, clusterTargets);  // [N, widest]
        Tensor block;                                                                              // [N, widest]
        if (Layout.IsUniform)
            block = logProbabilities.gather(1, index);
        else
        {
            var padding = index.eq(Layout.VocabularySize);
            block = logProbabilities.gather(1, index.masked_fill(padding, 0)).masked_fill(padding, double.NegativeInfinity);
        }
        return block.logsumexp(-1).neg().mean().MoveToOuterDisposeScope();                         // −log q(target cluster)
    }

    void RequireVocabulary(Tensor scores, string parameter)
    {
        long vocab = scores.shape[^1];
        if (vocab != Layout.VocabularySize)
            throw new ArgumentException(
                $"The logits cover {vocab} indices but the cluster layout covers {Layout.VocabularySize}; the generator and the rearranged tokenizer disagree on the vocabulary.",
                parameter);
    }

    /// <summary>
    /// int64 [n·widest]: for each cluster its token indices, then V (the −∞ column) up to the widest cluster's size.
    /// </summary>
    Tensor PaddedIndex(Device device)
    {
        var key = (device.type, device.index);
        lock (paddedIndex)
        {
            if (paddedIndex.TryGetValue(key, out var cached)) return cached;
            var index = new long[Layout.Count * widestCluster];
            for (int j = 0; j < Layout.Count; j++)
                for (int k = 0; k < widestCluster; k++)
                    index[j * widestCluster + k] = k < Layout.Sizes[j] ? Layout.Offsets[j] + k : Layout.VocabularySize;
            var tensor = torch.tensor(index, [index.Length], ScalarType.Int64).to(device);
            tensor.DetachFromDisposeScope();
            paddedIndex[key] = tensor;
            return tensor;
        }
    }
}
