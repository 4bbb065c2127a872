using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>
/// A PyTorch checkpoint as <c>torch.save</c> writes it since 1.6: a zip with <c>PREFIX/data.pkl</c> (the pickled object,
/// tensors as persistent ids), <c>PREFIX/data/KEY</c> (one raw little-endian storage each), <c>PREFIX/byteorder</c> and
/// <c>PREFIX/version</c>. The pickle is read by <see cref="RestrictedUnpickler"/> (nothing in it runs); storages are
/// read only when a tensor that uses them is asked for, each once per call, and everything allocated is charged to one
/// <see cref="LoadBudget"/> (see the README beside this file for what is kept as a view and what is copied).
/// </summary>
public sealed class TorchCheckpoint : IDisposable
{
    /// <summary>Where official checkpoints keep the weights, tried in this order: LlamaGen/IAR <c>model</c>, DeepSpeed <c>module</c>, FSDP/Lightning <c>state_dict</c>, then <c>ema</c>.</summary>
    public static readonly string[] WeightEntries = ["model", "module", "state_dict", "ema"];

    readonly ZipArchive zip;
    readonly string prefix;
    readonly Dictionary<string, TorchStorageRef> storages = new(StringComparer.Ordinal);
    readonly LoadBudget budget;

    TorchCheckpoint(string path, ZipArchive zip, string prefix, LoadBudget budget)
    {
        FilePath = path;
        this.zip = zip;
        this.prefix = prefix;
        this.budget = budget;
    }

    /// <summary>Bytes read into a storage's memory at a time: a span of one read must stay under 2 GiB.</summary>
    internal long StorageChunkBytes { get; set; } = 1L << 28;

    /// <summary>What reading this file may still allocate (shared by the pickle, the storages and strided copies).</summary>
    public LoadBudget Budget => budget;

    public string FilePath { get; }

    /// <summary>The unpickled object: a <see cref="PickleDict"/> for every official layout, or a bare tensor (<c>mapping-*.pt</c>).</summary>
    public object? Root { get; private set; }

    /// <summary>Whether the file starts like a zip (<c>PK\x03\x04</c>), i.e. a torch.save file rather than safetensors.</summary>
    public static bool IsTorchZip(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> magic = stackalloc byte[4];
        return stream.Read(magic) == 4 && magic.SequenceEqual("PK\u0003\u0004"u8);
    }

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">It is not a complete torch.save zip, or its pickle names a global that is not allowed.</exception>
    public static TorchCheckpoint Open(string path, LoadBudget? budget = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        budget ??= LoadBudget.ForFile(path, stream.Length);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            stream.Dispose();
            var legacy = !IsTorchZip(path);
            throw new InvalidDataException(legacy
                ? $"{path} is not a zip-format PyTorch checkpoint (legacy torch.save before 1.6, or another format); re-save it with a current torch.save, or give a safetensors file."
                : $"{path} is not a complete PyTorch checkpoint: its zip directory cannot be read ({e.Message.TrimEnd('.')}); the file is probably truncated.");
        }
        var checkpoint = default(TorchCheckpoint);
        try
        {
            var pickle = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
            if (pickle.Count != 1)
                throw new InvalidDataException($"{path} is a zip but not a PyTorch checkpoint: it has {pickle.Count} PREFIX/data.pkl entries where torch.save writes one.");
            var prefix = pickle[0].FullName[..^"data.pkl".Length];
            checkpoint = new TorchCheckpoint(path, zip, prefix, budget);
            var byteOrder = checkpoint.ReadText("byteorder");
            if (byteOrder is not null && byteOrder.Trim() != "little")
                throw new InvalidDataException($"{path} stores its tensors {byteOrder.Trim()}-endian; only little-endian checkpoints are read (re-save it on a little-endian machine).");
            using (var data = new BufferedStream(pickle[0].Open(), 1 << 16))
                checkpoint.Root = new RestrictedUnpickler(data, pickle[0].Length, path, budget, checkpoint.PersistentLoad).Load();
            return checkpoint;
        }
        catch
        {
            if (checkpoint is not null) checkpoint.Dispose();
            else zip.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The weights as a flat name → tensor map: <paramref name="entry"/> when given, else the first of
    /// <see cref="WeightEntries"/> that holds a dict of tensors, else the root itself when it is one (VAR's bare state dicts).
    /// </summary>
    /// <returns>The entry used (<c>null</c> for the root) and new CPU tensors the caller owns.</returns>
    /// <exception cref="InvalidDataException">No such entry, or it is not a dict of tensors (what it has is named).</exception>
    public (string? Entry, Dictionary<string, Tensor> Tensors) StateDict(string? entry = null)
    {
        if (Root is not PickleDict root)
            throw new InvalidDataException($"{FilePath} holds a {Describe(Root)}, not a dict of tensors.");
        string? used;
        PickleDict weights;
        if (entry is not null)
        {
            if (!root.TryGet(entry, out var value) || value is not PickleDict d)
                throw new InvalidDataException($"{FilePath} has no dict of tensors under '{entry}'; its entries: {Summary(root)}.");
            (used, weights) = (entry, d);
        }
        else if (IsTensorDict(root)) (used, weights) = (null, root);
        else
        {
            var found = WeightEntries.FirstOrDefault(name => root.TryGet(name, out var v) && v is PickleDict d && IsTensorDict(d));
            if (found is null)
                throw new InvalidDataException(
                    $"{FilePath} is neither a state dict nor has one under {string.Join(", ", WeightEntries.Select(w => $"'{w}'"))}; its entries: {Summary(root)}.");
            root.TryGet(found, out var value);
            (used, weights) = (found, (PickleDict)value!);
        }
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var bases = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (key, value) in weights.Entries)
                if (value is TorchTensorRef t) tensors[(string)key] = Materialize(t, bases);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        finally
        {
            foreach (var b in bases.Values) b.Dispose();
        }
        return (used, tensors);
    }

    /// <summary>One tensor (a new contiguous CPU tensor the caller owns).</summary>
    public Tensor Load(TorchTensorRef tensor)
    {
        var bases = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            return Materialize(tensor, bases);
        }
        finally
        {
            foreach (var b in bases.Values) b.Dispose();
        }
    }

    /// <summary>The plain (non-tensor) values beside the weights as strings for safetensors metadata: <c>torch.steps</c>, <c>torch.args</c> (JSON), …</summary>
    public Dictionary<string, string> Metadata()
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Root is not PickleDict root) return metadata;
        foreach (var (key, value) in root.Entries)
        {
            if (key is not string name) continue;
            switch (value)
            {
                case string text:
                    metadata[$"torch.{name}"] = text;
                    break;
                case bool flag:
                    metadata[$"torch.{name}"] = flag ? "true" : "false";
                    break;
                case long or double:
                    metadata[$"torch.{name}"] = Convert.ToString(value, CultureInfo.InvariantCulture)!;
                    break;
                case PickleRecord record:
                    metadata[$"torch.{name}"] = ToJson(record.Fields);
                    break;
            }
        }
        return metadata;
    }

    public void Dispose() => zip.Dispose();

    object PersistentLoad(PickleTuple id)
    {
        // ('storage', storage_type, key, location, numel)
        if (id.Count != 5 || id[0] is not "storage" || id[1] is not PickleGlobal type || id[2] is not string key || id[4] is not long count)
            throw new InvalidDataException($"{FilePath} has a persistent id {id}, not ('storage', type, key, location, numel).");
        if (type.Module != "torch" || !PickleGlobals.StorageTypes.TryGetValue(type.Attribute, out var dtype))
            throw new InvalidDataException($"{FilePath} has a storage of type {type.Name}; accepted: {string.Join(", ", PickleGlobals.StorageTypes.Keys)}.");
        if (storages.TryGetValue(key, out var known)) return known;
        var entry = zip.GetEntry($"{prefix}data/{key}")
            ?? throw new InvalidDataException($"{FilePath} lacks the storage entry {prefix}data/{key} that its pickle refers to; the file is incomplete.");
        long bytes = budget.Product(count, ElementSize(dtype), $"storage {key}");
        if (entry.Length != bytes)
            throw new InvalidDataException($"{FilePath}: storage {key} should hold {count} elements of {dtype} ({bytes} bytes) but has {entry.Length} bytes.");
        return storages[key] = new TorchStorageRef(key, dtype, count);
    }

    /// <summary>
    /// A C-order view of its storage stays a view of the one read of that storage (tied weights, and any number of keys
    /// naming one storage, cost one read); any other view (transposed, strided, expanded with stride 0, overlapping)
    /// is copied out contiguously, its bytes charged to the budget first.
    /// </summary>
    Tensor Materialize(TorchTensorRef t, Dictionary<string, Tensor> bases)
    {
        if (!bases.TryGetValue(t.Storage.Key, out var storage)) bases[t.Storage.Key] = storage = ReadStorage(t.Storage);
        if (t.IsContiguous) return storage.as_strided(t.Shape, t.Stride, t.Offset);
        budget.Charge(budget.Product(t.ElementCount, ElementSize(t.Storage.DType), "a strided view"),
            $"a contiguous copy of a strided view [{string.Join(", ", t.Shape)}] of storage {t.Storage.Key}");
        using var view = storage.as_strided(t.Shape, t.Stride, t.Offset);
        return view.contiguous();
    }

    Tensor ReadStorage(TorchStorageRef s)
    {
        budget.Charge(s.ElementCount * ElementSize(s.DType), $"storage {s.Key}");
        var storage = torch.empty([s.ElementCount], s.DType);
        if (s.ElementCount == 0) return storage;
        using var stream = zip.GetEntry($"{prefix}data/{s.Key}")!.Open();
        // Read straight into the tensor's memory, in chunks, so a storage past 2 GB needs no managed array.
        long chunk = Math.Max(1, StorageChunkBytes / ElementSize(s.DType));
        try
        {
            for (long start = 0; start < s.ElementCount; start += chunk)
            {
                using var part = storage.narrow(0, start, Math.Min(chunk, s.ElementCount - start));
                stream.ReadExactly(part.bytes);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
        {
            storage.Dispose();
            throw new InvalidDataException($"{FilePath}: storage {s.Key} cannot be read completely ({e.Message.TrimEnd('.')}); the file is probably truncated or corrupt.");
        }
        return storage;
    }

    string? ReadText(string name)
    {
        var entry = zip.GetEntry(prefix + name);
        if (entry is null) return null;
        using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    static bool IsTensorDict(PickleDict d) =>
        d.Count > 0 && d.HasStringKeys && d.Entries.All(e => e.Value is TorchTensorRef);

    static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    internal static string Describe(object? value) => value switch
    {
        TorchTensorRef t => $"tensor [{string.Join(", ", t.Shape)}] {t.Storage.DType}",
        PickleDict d when d.Count > 0 && d.Entries.All(e => e.Value is TorchTensorRef) => $"dict of {d.Count} tensors",
        PickleDict d => $"dict of {d.Count}",
        PickleRecord r => r.ClassName,
        List<object?> l => $"list of {l.Count}",
        _ => RestrictedUnpickler.Describe(value),
    };

    static string Summary(PickleDict d) =>
        string.Join(", ", d.Entries.Take(12).Select(e => $"'{e.Key}' ({Describe(e.Value)})")) + (d.Count > 12 ? $" and {d.Count - 12} more" : "");

    /// <summary>Most values one metadata entry is written with; a list holding itself twice would otherwise be 2³² of them.</summary>
    const int MaxJsonValues = 10_000, MaxJsonDepth = 32;

    static string ToJson(PickleDict fields)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            new MetadataJson(writer).Write(fields, depth: 0);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Writes pickle values as JSON with bounded work: at most <see cref="MaxJsonDepth"/> levels and
    /// <see cref="MaxJsonValues"/> values ("…" stands for the rest), and a container that holds itself is written as
    /// "&lt;cycle&gt;" instead of being entered again.
    /// </summary>
    sealed class MetadataJson(Utf8JsonWriter w)
    {
        readonly HashSet<object> open = new(ReferenceEqualityComparer.Instance);
        int written;

        public void Write(object? value, int depth)
        {
            if (depth > MaxJsonDepth || ++written > MaxJsonValues)
            {
                w.WriteStringValue("…");
                return;
            }
            if (value is PickleDict or PickleRecord or List<object?> or PickleTuple && !open.Add(value!))
            {
                w.WriteStringValue("<cycle>");
                return;
            }
            switch (value)
            {
                case null: w.WriteNullValue(); break;
                case bool b: w.WriteBooleanValue(b); break;
                case long l: w.WriteNumberValue(l); break;
                case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
                case string s: w.WriteStringValue(s); break;
                case PickleDict d:
                    w.WriteStartObject();
                    foreach (var (k, v) in d.Entries)
                    {
                        if (written >= MaxJsonValues) break;
                        w.WritePropertyName(k == PickleDict.NoneKey ? "None" : Convert.ToString(k, CultureInfo.InvariantCulture)!);
                        Write(v, depth + 1);
                    }
                    w.WriteEndObject();
                    break;
                case PickleRecord r: Write(r.Fields, depth); break;
                case List<object?> items: WriteArray(items, depth); break;
                case PickleTuple t: WriteArray(t.Items, depth); break;
                case System.Numerics.BigInteger or double: w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break; // past 64 bits, NaN, ±inf
                default: w.WriteStringValue(Describe(value)); break; // a tensor, bytes
            }
            if (value is not null) open.Remove(value);
        }

        void WriteArray(IEnumerable<object?> items, int depth)
        {
            w.WriteStartArray();
            foreach (var v in items)
            {
                if (written >= MaxJsonValues)
                {
                    w.WriteStringValue("…");
                    break;
                }
                Write(v, depth + 1);
            }
            w.WriteEndArray();
        }
    }
}
