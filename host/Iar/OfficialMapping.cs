using IAR.Host.Serialization;
using IAR.Host.Iar;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// IAR's released <c>mapping-*.pt</c>: a bare int64 tensor [V] saved by <c>torch.save(index[1])</c>, where
/// <c>index = torch.where(cdist(old, new) &lt; 1e-6)</c>, so entry <c>old</c> is the code's new index (<c>old_to_new</c>).
/// It is a strided view of torch.where's [V, 2] result, which <see cref="TorchCheckpoint"/> copies out.
/// </summary>
public static class OfficialMapping
{
    /// <summary>Whether <paramref name="path"/> is a PyTorch file (a mapping) rather than a safetensors permutation file.</summary>
    public static bool Applies(string path) => File.Exists(path) && TorchCheckpoint.IsTorchZip(path);

    /// <param name="expectedCount">V of the codebook it will be applied to; null skips the check.</param>
    /// <exception cref="InvalidDataException">It is not one integer tensor [V], V ≥ 1, holding a permutation of 0…V−1.</exception>
    public static CodebookPermutation Read(string path, int? expectedCount = null)
    {
        using var checkpoint = TorchCheckpoint.Open(path);
        if (checkpoint.Root is not TorchTensorRef t || t.Shape.Length != 1 ||
            t.Storage.DType is not (ScalarType.Int64 or ScalarType.Int32))
            throw new InvalidDataException(
                $"{path} holds a {TorchCheckpoint.Describe(checkpoint.Root)}; an IAR mapping is one int64 tensor [V] (old index → new index).");
        using var tensor = checkpoint.Load(t);
        using var longs = tensor.to_type(ScalarType.Int64);
        var oldToNew = longs.data<long>().ToArray();
        if (oldToNew.Length == 0)
            throw new InvalidDataException($"{path} maps no codes; an IAR mapping is one int64 tensor [V] with V ≥ 1 (old index → new index).");
        if (expectedCount is int v && oldToNew.Length != v)
            throw new InvalidDataException($"{path} maps {oldToNew.Length} codes but the codebook has {v}; it was made for a different codebook.");
        var newToOld = new int[oldToNew.Length];
        var seen = new bool[oldToNew.Length];
        for (int old = 0; old < oldToNew.Length; old++)
        {
            long n = oldToNew[old];
            if (n < 0 || n >= oldToNew.Length || seen[n])
                throw new InvalidDataException(
                    $"{path} is not a permutation: code {old} maps to {n}{(n >= 0 && n < oldToNew.Length ? ", which another code already maps to" : $", outside 0…{oldToNew.Length - 1}")}.");
            seen[n] = true;
            newToOld[n] = old;
        }
        return CodebookPermutation.FromNewToOld(newToOld);
    }
}
