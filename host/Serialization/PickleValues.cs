using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>A Python tuple (also <c>torch.Size</c>); compares by value so it can be a dict key.</summary>
public sealed class PickleTuple(IReadOnlyList<object?> items) : IEquatable<PickleTuple>
{
    public IReadOnlyList<object?> Items { get; } = items;

    public int Count => Items.Count;

    public object? this[int index] => Items[index];

    public bool Equals(PickleTuple? other) => other is not null && Items.SequenceEqual(other.Items);

    public override bool Equals(object? obj) => Equals(obj as PickleTuple);

    public override int GetHashCode() => Items.Aggregate(17, (h, x) => h * 31 + (x?.GetHashCode() ?? 0));

    public override string ToString() => $"({string.Join(", ", Items)})";
}

/// <summary>A Python dict or OrderedDict, in insertion order. Attributes set by <c>BUILD</c> (a state dict's <c>_metadata</c>) are kept apart.</summary>
public sealed class PickleDict
{
    /// <summary>Stands for Python's <c>None</c> as a key.</summary>
    public static readonly object NoneKey = new();

    readonly Dictionary<object, int> index = [];
    readonly List<KeyValuePair<object, object?>> entries = [];

    public IReadOnlyList<KeyValuePair<object, object?>> Entries => entries;

    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);

    public int Count => entries.Count;

    public void Set(object key, object? value)
    {
        if (index.TryGetValue(key, out int i)) entries[i] = new(key, value);
        else
        {
            index[key] = entries.Count;
            entries.Add(new(key, value));
        }
    }

    public bool TryGet(object key, out object? value)
    {
        if (index.TryGetValue(key, out int i))
        {
            value = entries[i].Value;
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>Whether every key is a string (a state dict, a config).</summary>
    public bool HasStringKeys => entries.All(e => e.Key is string);
}

/// <summary>An instance of an allowed plain class (argparse.Namespace), kept as its class name and fields; never constructed.</summary>
public sealed class PickleRecord(string className)
{
    public string ClassName { get; } = className;

    public PickleDict Fields { get; } = new();
}

/// <summary>A storage of a torch.save zip: the entry <c>data/KEY</c> holding <see cref="ElementCount"/> elements of <see cref="DType"/>.</summary>
public sealed record TorchStorageRef(string Key, ScalarType DType, long ElementCount);

/// <summary>A tensor of a torch.save zip: a strided view of a storage (several tensors may share one).</summary>
public sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, long[] Shape, long[] Stride)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int i = Shape.Length - 1; i >= 0; i--)
            {
                if (Shape[i] != 1 && Stride[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }
}
