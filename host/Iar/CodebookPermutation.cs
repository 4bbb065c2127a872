using System.Security.Cryptography;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// A rearrangement of a codebook: <c>NewToOld[new] = old</c> (the rearranged codebook is <c>codebook[NewToOld]</c>) and
/// its inverse <c>OldToNew[old] = new</c> (what IAR applies to dataset codes: <c>x = OldToNew[x]</c>; the official
/// <c>mapping-*.pt</c>). Its <see cref="Hash"/> is written into every artifact whose indices depend on it
/// (metadata key <see cref="MetadataKey"/>), so a rearranged checkpoint cannot be paired with the wrong tokenizer
/// without an error.
/// </summary>
public sealed class CodebookPermutation
{
    /// <summary>The safetensors metadata key that records the permutation an artifact's indices follow.</summary>
    public const string MetadataKey = "iar.permutation";

    /// <summary>The hash of the identity (no rearrangement); also what an artifact without the key is taken to follow.</summary>
    public const string IdentityHash = "identity";

    /// <summary>Tensor names in a permutation file.</summary>
    public const string NewToOldKey = "new_to_old", OldToNewKey = "old_to_new", ClusterSizesKey = "cluster_sizes";

    readonly int[] newToOld;
    readonly int[] oldToNew;
    readonly Dictionary<(DeviceType, int, bool), Tensor> tables = [];

    CodebookPermutation(int[] newToOld, int[] oldToNew)
    {
        this.newToOld = newToOld;
        this.oldToNew = oldToNew;
        IsIdentity = newToOld.Select((old, i) => old == i).All(x => x);
        Hash = IsIdentity ? IdentityHash : ComputeHash(newToOld);
    }

    /// <summary>From <c>new_to_old</c>.</summary>
    /// <exception cref="ArgumentException">The values are not a permutation of 0 … V−1 (the first offending one is named).</exception>
    public static CodebookPermutation FromNewToOld(IReadOnlyList<int> newToOld)
    {
        var copy = newToOld.ToArray();
        var inverse = Invert(copy, out var problem);
        if (inverse is null) throw new ArgumentException($"new_to_old is not a permutation: {problem}.", nameof(newToOld));
        return new CodebookPermutation(copy, inverse);
    }

    /// <summary>From an int64 [V] tensor <c>new_to_old</c>.</summary>
    public static CodebookPermutation FromTensor(Tensor newToOld) => FromNewToOld(ToInts(newToOld, NewToOldKey));

    public static CodebookPermutation Identity(int vocabularySize) =>
        FromNewToOld(Enumerable.Range(0, vocabularySize).ToArray());

    /// <summary>V.</summary>
    public int Count => newToOld.Length;

    public IReadOnlyList<int> NewToOld => newToOld;

    public IReadOnlyList<int> OldToNew => oldToNew;

    public bool IsIdentity { get; }

    /// <summary>
    /// Lowercase hex SHA-256 of the int64 little-endian bytes of <c>new_to_old</c>, first 16 characters;
    /// <see cref="IdentityHash"/> for the identity.
    /// </summary>
    public string Hash { get; }

    /// <summary>int64 [V] <c>new_to_old</c> on <paramref name="device"/> (cached; do not dispose).</summary>
    public Tensor NewToOldTensor(Device? device = null) => Table(device ?? CPU, newToOldTable: true);

    /// <summary>int64 [V] <c>old_to_new</c> on <paramref name="device"/> (cached; do not dispose).</summary>
    public Tensor OldToNewTensor(Device? device = null) => Table(device ?? CPU, newToOldTable: false);

    /// <summary>Old indices [...] → new indices [...] (same shape and device).</summary>
    public Tensor ToNew(Tensor oldIndices) => Map(oldIndices, OldToNewTensor(oldIndices.device));

    /// <summary>New indices [...] → old indices [...] (same shape and device).</summary>
    public Tensor ToOld(Tensor newIndices) => Map(newIndices, NewToOldTensor(newIndices.device));

    /// <summary>Slices of <paramref name="tensor"/> along <paramref name="axis"/> in the new order (a new tensor).</summary>
    public Tensor Rearrange(Tensor tensor, long axis = 0) => tensor.index_select(axis, NewToOldTensor(tensor.device));

    /// <summary>Undoes <see cref="Rearrange"/>: slices in the old order (a new tensor).</summary>
    public Tensor Restore(Tensor tensor, long axis = 0) => tensor.index_select(axis, OldToNewTensor(tensor.device));

    /// <summary>Metadata to store in an artifact whose indices follow this permutation.</summary>
    public IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string> { [MetadataKey] = Hash };

    /// <summary>The permutation hash an artifact records (<see cref="IdentityHash"/> when it records none).</summary>
    public static string RecordedHash(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(MetadataKey, out var hash) && hash.Length > 0 ? hash : IdentityHash;

    /// <summary>Throws unless the artifact at <paramref name="source"/> records this permutation.</summary>
    /// <exception cref="InvalidDataException">It records a different one.</exception>
    public void RequireRecordedIn(IReadOnlyDictionary<string, string> metadata, string source)
    {
        var recorded = RecordedHash(metadata);
        if (recorded != Hash)
            throw new InvalidDataException(
                $"{source} follows codebook permutation '{recorded}' ({MetadataKey}) but is being paired with '{Hash}'; use it with the permutation (and rearranged tokenizer) it was made with.");
    }

    /// <summary>Writes <c>new_to_old</c>, <c>old_to_new</c> (int64 [V]) and, when given, <c>cluster_sizes</c>, atomically.</summary>
    public void Save(string path, ClusterLayout? layout = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (layout is not null && layout.VocabularySize != Count)
            throw new ArgumentException($"The cluster layout covers {layout.VocabularySize} codes, the permutation {Count}.", nameof(layout));
        var tensors = new Dictionary<string, Tensor>
        {
            [NewToOldKey] = torch.tensor(newToOld.Select(x => (long)x).ToArray(), [Count], ScalarType.Int64),
            [OldToNewKey] = torch.tensor(oldToNew.Select(x => (long)x).ToArray(), [Count], ScalarType.Int64),
        };
        if (layout is not null)
            tensors[ClusterSizesKey] = torch.tensor(layout.Sizes.Select(x => (long)x).ToArray(), [layout.Count], ScalarType.Int64);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { [MetadataKey] = Hash };
        try
        {
            SafeTensorsWriter.Write(path, tensors, meta);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Reads and validates a permutation file (and its cluster sizes, when it has them), or IAR's <c>mapping-*.pt</c>.</summary>
    /// <param name="expectedCount">V of the codebook it will be applied to; null skips the check.</param>
    /// <exception cref="InvalidDataException">
    /// A tensor is missing or of the wrong dtype/shape, <c>new_to_old</c> is not a permutation, <c>old_to_new</c> is not its
    /// inverse, the sizes do not add up to V, or the recorded hash does not match the content.
    /// </exception>
    public static (CodebookPermutation Permutation, ClusterLayout? Layout) Load(string path, int? expectedCount = null)
    {
        // IAR's released mapping-*.pt (old → new), read without running code; it carries no cluster sizes.
        if (OfficialMapping.Applies(path)) return (OfficialMapping.Read(path, expectedCount), null);
        var file = SafeTensorsFile.Open(path);
        var newToOld = ReadIndexVector(file, NewToOldKey);
        if (expectedCount is int v && newToOld.Length != v)
            throw new InvalidDataException($"{path}: {NewToOldKey} has {newToOld.Length} entries but the codebook has {v} codes; it was made for a different codebook.");
        var inverse = Invert(newToOld, out var problem)
            ?? throw new InvalidDataException($"{path}: {NewToOldKey} is not a permutation of 0…{newToOld.Length - 1}: {problem}.");
        if (file.Contains(OldToNewKey))
        {
            var oldToNew = ReadIndexVector(file, OldToNewKey);
            if (!oldToNew.AsSpan().SequenceEqual(inverse))
                throw new InvalidDataException($"{path}: {OldToNewKey} is not the inverse of {NewToOldKey}.");
        }
        var permutation = new CodebookPermutation(newToOld, inverse);
        if (file.Metadata.TryGetValue(MetadataKey, out var recorded) && recorded != permutation.Hash)
            throw new InvalidDataException($"{path}: its {MetadataKey} metadata says '{recorded}' but its {NewToOldKey} hashes to '{permutation.Hash}'; the file was altered.");
        ClusterLayout? layout = null;
        if (file.Contains(ClusterSizesKey))
        {
            var sizes = ReadIndexVector(file, ClusterSizesKey);
            if (sizes.Any(s => s < 1) || sizes.Sum(s => (long)s) != newToOld.Length)
                throw new InvalidDataException($"{path}: {ClusterSizesKey} must be positive and add up to {newToOld.Length}.");
            layout = ClusterLayout.FromSizes(sizes);
        }
        return (permutation, layout);
    }

    public override string ToString() => $"permutation of {Count} codes ({Hash})";

    static int[] ReadIndexVector(SafeTensorsFile file, string name)
    {
        if (!file.Contains(name))
            throw new InvalidDataException($"{file.FilePath} has no tensor '{name}'; a permutation file holds int64 {NewToOldKey} and {OldToNewKey}.");
        var entry = file.Entry(name);
        if (entry.DType != ScalarType.Int64 || entry.Shape.Length != 1)
            throw new InvalidDataException($"{file.FilePath}: '{name}' must be a 1-D int64 tensor, not {entry.DType} [{string.Join(", ", entry.Shape)}].");
        using var tensor = file.Load(name);
        return ToInts(tensor, $"{file.FilePath}: '{name}'");
    }

    static int[] ToInts(Tensor tensor, string what)
    {
        if (tensor.dim() != 1) throw new ArgumentException($"{what} must be 1-D, not [{string.Join(", ", tensor.shape)}].");
        using var cpu = tensor.to(ScalarType.Int64).cpu();
        var longs = cpu.data<long>().ToArray();
        var ints = new int[longs.Length];
        for (int i = 0; i < longs.Length; i++)
        {
            if (longs[i] < int.MinValue || longs[i] > int.MaxValue)
                throw new InvalidDataException($"{what} has the out-of-range value {longs[i]} at {i}.");
            ints[i] = (int)longs[i];
        }
        return ints;
    }

    /// <summary>The inverse, or null with the first problem described.</summary>
    static int[]? Invert(int[] newToOld, out string problem)
    {
        problem = "";
        int n = newToOld.Length;
        if (n == 0)
        {
            problem = "it is empty";
            return null;
        }
        var inverse = new int[n];
        Array.Fill(inverse, -1);
        for (int i = 0; i < n; i++)
        {
            int old = newToOld[i];
            if ((uint)old >= (uint)n)
            {
                problem = $"entry {i} is {old}, outside [0, {n})";
                return null;
            }
            if (inverse[old] >= 0)
            {
                problem = $"{old} appears twice (at {inverse[old]} and {i})";
                return null;
            }
            inverse[old] = i;
        }
        return inverse;
    }

    static string ComputeHash(int[] newToOld)
    {
        var bytes = new byte[newToOld.Length * sizeof(long)];
        for (int i = 0; i < newToOld.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), newToOld[i]);
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
    }

    Tensor Table(Device device, bool newToOldTable)
    {
        var key = (device.type, device.index, newToOldTable);
        lock (tables)
        {
            if (tables.TryGetValue(key, out var cached)) return cached;
            var source = newToOldTable ? newToOld : oldToNew;
            var tensor = torch.tensor(source.Select(x => (long)x).ToArray(), [Count], ScalarType.Int64).to(device);
            tensor.DetachFromDisposeScope();
            tables[key] = tensor;
            return tensor;
        }
    }

    static Tensor Map(Tensor indices, Tensor table) =>
        table.index_select(0, indices.flatten()).reshape(indices.shape);
}
