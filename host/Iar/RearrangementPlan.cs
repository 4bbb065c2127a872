using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// The result of <see cref="CodebookRearrangement.Plan"/> for one arm: the rearrangement, the clusters of the new
/// numbering (contiguous blocks) and how good they are.
/// </summary>
public sealed record RearrangementPlan(CodebookPermutation Permutation, ClusterLayout Layout, RearrangementStats Stats)
{
    /// <summary>
    /// int64 [V]: the cluster of every index of the ORIGINAL numbering (for measuring cluster accuracy of a model that
    /// predicts original indices, e.g. the baseline arm).
    /// </summary>
    public Tensor ClusterOfOriginalIndex(Device? device = null) =>
        Layout.ClusterOfIndex(device).index_select(0, Permutation.OldToNewTensor(device));

    /// <summary>Writes the permutation file (new_to_old, old_to_new, cluster_sizes; metadata: hash and stats).</summary>
    public void Save(string path) => Permutation.Save(path, Layout,
        Stats.ToDictionary().ToDictionary(kv => "iar.stats." + kv.Key, kv => kv.Value));
}
