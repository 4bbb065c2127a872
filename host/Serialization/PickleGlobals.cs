using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>A global a pickle named and the allow-list accepted: something to call with REDUCE/NEWOBJ, or a constant.</summary>
public sealed record PickleGlobal(string Module, string Attribute)
{
    public string Name => $"{Module}.{Attribute}";
}

/// <summary>
/// The allow-list of <see cref="RestrictedUnpickler"/>: exactly what tensors, state dicts and training metadata need
/// (the same ground as <c>torch.load(weights_only=True)</c>). Each entry is interpreted here into plain values;
/// no Python object is ever constructed and no name is looked up anywhere else.
/// </summary>
public static class PickleGlobals
{
    /// <summary>torch's storage classes (legacy typed storages, as <c>torch.save</c> names them) → element type.</summary>
    public static readonly IReadOnlyDictionary<string, ScalarType> StorageTypes = new Dictionary<string, ScalarType>(StringComparer.Ordinal)
    {
        ["FloatStorage"] = ScalarType.Float32,
        ["HalfStorage"] = ScalarType.Float16,
        ["BFloat16Storage"] = ScalarType.BFloat16,
        ["DoubleStorage"] = ScalarType.Float64,
        ["LongStorage"] = ScalarType.Int64,
        ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16,
        ["CharStorage"] = ScalarType.Int8,
        ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool,
    };

    static readonly HashSet<string> DTypeNames =
    [
        "float32", "float", "float16", "half", "bfloat16", "float64", "double", "int64", "long", "int32", "int",
        "int16", "short", "int8", "uint8", "bool",
    ];

    static readonly HashSet<string> Callables =
    [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch.Size",
        "argparse.Namespace", "builtins.set", "builtins.frozenset", "torch.device", "_codecs.encode",
    ];

    /// <summary>Every name accepted, for the refusal message.</summary>
    public static IEnumerable<string> Accepted =>
        Callables.Concat(StorageTypes.Keys.Select(s => "torch." + s)).Concat(DTypeNames.Select(d => "torch." + d)).Order(StringComparer.Ordinal);

    /// <exception cref="InvalidDataException">The global is not on the list.</exception>
    public static object Resolve(string module, string name, string source)
    {
        var global = new PickleGlobal(module, name);
        if (Callables.Contains(global.Name)) return global;
        if (module == "torch" && StorageTypes.ContainsKey(name)) return global;
        if (module == "torch" && DTypeNames.Contains(name)) return global.Name; // a dtype in training args: keep its name
        throw new InvalidDataException(
            $"{source} was refused: its pickle names the global '{global.Name}', which a checkpoint of tensors and plain containers does not need; nothing was executed (accepted: tensors, storages, dict/OrderedDict/list/tuple/set, argparse.Namespace, torch.Size, torch dtypes).");
    }

    /// <summary>REDUCE / NEWOBJ of an allowed global on its arguments.</summary>
    public static object? Call(PickleGlobal global, PickleTuple args, string source)
    {
        switch (global.Name)
        {
            case "collections.OrderedDict":
            {
                var dict = new PickleDict();
                if (args.Count == 1 && args[0] is List<object?> pairs)
                    foreach (var pair in pairs)
                        if (pair is PickleTuple { Count: 2 } kv && kv[0] is { } key) dict.Set(key, kv[1]);
                        else throw Bad(source, "OrderedDict is given something other than (key, value) pairs");
                else if (args.Count != 0) throw Bad(source, $"OrderedDict is called with {args.Count} arguments");
                return dict;
            }
            case "torch._utils._rebuild_tensor_v2" or "torch._utils._rebuild_tensor":
                return RebuildTensor(args, source);
            case "torch._utils._rebuild_parameter" or "torch._utils._rebuild_parameter_with_state":
                return args.Count >= 1 && args[0] is TorchTensorRef data ? data : throw Bad(source, "a parameter is rebuilt from something other than a tensor");
            case "torch.Size":
                return args.Count == 1 && args[0] is PickleTuple size ? size : new PickleTuple([]);
            case "argparse.Namespace":
                return args.Count == 0 ? new PickleRecord(global.Name) : throw Bad(source, "argparse.Namespace is called with arguments");
            case "builtins.set" or "builtins.frozenset":
                return args.Count == 0 ? new List<object?>() : args[0] is List<object?> items ? new List<object?>(items) : throw Bad(source, "a set is built from something other than a list");
            case "torch.device":
                return args.Count >= 1 ? string.Join(":", args.Items) : throw Bad(source, "torch.device has no arguments");
            case "_codecs.encode":
                return args.Count >= 1 && args[0] is string text ? System.Text.Encoding.Latin1.GetBytes(text) : throw Bad(source, "_codecs.encode is not given a string");
            default:
                // Storage classes only appear inside persistent ids; calling one would construct a storage.
                throw new InvalidDataException($"{source} was refused: its pickle calls '{global.Name}', which is only accepted as a storage type; nothing was executed.");
        }
    }

    /// <summary>BUILD: sets the fields of a Namespace or the attributes of an OrderedDict; nothing else takes state.</summary>
    public static void Build(object? target, object? state, string source)
    {
        var fields = state switch
        {
            PickleDict d => d,
            PickleTuple { Count: 2 } t when t[0] is PickleDict d => d, // (state, slotstate)
            _ => throw Bad(source, $"BUILD gives a {RestrictedUnpickler.Describe(state)} as state"),
        };
        switch (target)
        {
            case PickleRecord record:
                foreach (var (key, value) in fields.Entries) record.Fields.Set(key, value);
                break;
            case PickleDict dict:
                foreach (var (key, value) in fields.Entries)
                    if (key is string name) dict.Attributes[name] = value;
                break;
            default:
                throw Bad(source, $"BUILD sets state on a {RestrictedUnpickler.Describe(target)}, which takes none");
        }
    }

    static TorchTensorRef RebuildTensor(PickleTuple args, string source)
    {
        // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (args.Count < 4 || args[0] is not TorchStorageRef storage || args[1] is not long offset ||
            args[2] is not PickleTuple size || args[3] is not PickleTuple stride)
            throw Bad(source, "a tensor is rebuilt from arguments other than (storage, offset, size, stride, …)");
        var shape = size.Items.Select(x => x is long l ? l : throw Bad(source, "a tensor size is not an integer")).ToArray();
        var strides = stride.Items.Select(x => x is long l ? l : throw Bad(source, "a tensor stride is not an integer")).ToArray();
        if (shape.Length != strides.Length) throw Bad(source, $"a tensor has {shape.Length} sizes but {strides.Length} strides");
        if (offset < 0 || shape.Any(s => s < 0) || strides.Any(s => s < 0))
            throw Bad(source, "a tensor has a negative offset, size or stride");
        try
        {
            _ = shape.Aggregate(1L, (a, b) => checked(a * b));
        }
        catch (OverflowException)
        {
            throw Bad(source, $"a tensor of shape [{string.Join(", ", shape)}] has more elements than can be addressed");
        }
        // The largest element the view touches must lie inside its storage (as_strided does not check).
        if (shape.All(s => s > 0))
        {
            long last = offset;
            try
            {
                for (int i = 0; i < shape.Length; i++) last = checked(last + (shape[i] - 1) * strides[i]);
            }
            catch (OverflowException)
            {
                throw Bad(source, "a tensor view is too large to address");
            }
            if (last >= storage.ElementCount)
                throw Bad(source, $"a tensor view [{string.Join(", ", shape)}] at offset {offset} reaches element {last} of storage '{storage.Key}', which has {storage.ElementCount}");
        }
        return new TorchTensorRef(storage, offset, shape, strides);
    }

    static InvalidDataException Bad(string source, string reason) => new($"{source} is not a readable PyTorch checkpoint: {reason}.");
}
