using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>A Python tuple (also <c>torch.Size</c>); compares by value so it can be a dict key.</summary>
/// <remarks>
/// Tuples are immutable, so their nesting <see cref="Depth"/> is known when they are made and never changes: the
/// unpickler refuses a tuple nested deeper than its limit, which bounds the recursion of <see cref="Equals(PickleTuple?)"/>
/// and <see cref="GetHashCode"/> (they recurse only into tuples). <see cref="ToString"/> is bounded on its own.
/// </remarks>
public sealed class PickleTuple : IEquatable<PickleTuple>
{
    public PickleTuple(IReadOnlyList<object?> items)
    {
        Items = items;
        int depth = 0;
        bool hashable = true;
        foreach (var item in items)
        {
            if (item is PickleTuple t)
            {
                depth = Math.Max(depth, t.Depth);
                hashable &= t.IsHashable;
            }
            else hashable &= item is null or string or long or bool or double or System.Numerics.BigInteger;
        }
        Depth = depth + 1;
        IsHashable = hashable;
    }

    public IReadOnlyList<object?> Items { get; }

    public int Count => Items.Count;

    public object? this[int index] => Items[index];

    /// <summary>1 for a tuple of no tuples, else 1 + the deepest tuple inside.</summary>
    public int Depth { get; }

    /// <summary>Whether Python could use it as a dict key: only numbers, strings, None and such tuples inside.</summary>
    public bool IsHashable { get; }

    public bool Equals(PickleTuple? other) => other is not null && Depth == other.Depth && Items.SequenceEqual(other.Items);

    public override bool Equals(object? obj) => Equals(obj as PickleTuple);

    public override int GetHashCode() => Items.Aggregate(17, (h, x) => h * 31 + (x?.GetHashCode() ?? 0));

    /// <summary>At most three levels and 200 characters: it is for messages, and a message must not recurse a million times.</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        Append(text, this, 3);
        return text.Length <= 200 ? text.ToString() : text.ToString(0, 199) + "…";
    }

    static void Append(System.Text.StringBuilder text, PickleTuple tuple, int levels)
    {
        if (levels == 0)
        {
            text.Append("(…)");
            return;
        }
        text.Append('(');
        for (int i = 0; i < tuple.Count && text.Length <= 200; i++)
        {
            if (i > 0) text.Append(", ");
            if (tuple[i] is PickleTuple inner) Append(text, inner, levels - 1);
            else text.Append(System.Convert.ToString(tuple[i], System.Globalization.CultureInfo.InvariantCulture));
        }
        text.Append(')');
    }
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
    /// <summary>Checked when the tensor is rebuilt (<see cref="PickleGlobals"/>), so it cannot overflow here.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>Whether the view is a plain C-order run of its storage (no stride 0, no overlap, no transpose).</summary>
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
