using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>
/// A safetensors file opened for reading: 8-byte little-endian header length N, N bytes of JSON
/// <c>{name: {dtype, shape, data_offsets}, "__metadata__": {..}}</c>, then the raw little-endian data.
/// The header is validated completely on open, so a malformed file fails before any tensor is created.
/// </summary>
public sealed class SafeTensorsFile
{
    /// <summary>Largest header accepted (the format's own limit is 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    readonly Dictionary<string, SafeTensorsEntry> entries;

    SafeTensorsFile(string path, long dataStart, Dictionary<string, SafeTensorsEntry> entries, Dictionary<string, string> metadata)
    {
        FilePath = path;
        DataStart = dataStart;
        this.entries = entries;
        Metadata = metadata;
    }

    public string FilePath { get; }

    /// <summary>Byte offset of the data section in the file.</summary>
    public long DataStart { get; }

    /// <summary>The free-form <c>__metadata__</c> strings (config, hashes).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Entries in file order (by data offset).</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries => entries.Values.OrderBy(e => e.Begin).ToArray();

    public bool Contains(string name) => entries.ContainsKey(name);

    public SafeTensorsEntry Entry(string name) =>
        entries.TryGetValue(name, out var e) ? e
            : throw new InvalidDataException($"{FilePath} has no tensor '{name}'; it has: {Abbreviate(entries.Keys)}.");

    /// <exception cref="InvalidDataException">The file is truncated or its header is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = stream.Length;
        if (length < 8) throw Bad(path, $"it has {length} bytes, fewer than the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength == 0 || headerLength > MaxHeaderBytes)
            throw Bad(path, $"its header length {headerLength} is outside 1..{MaxHeaderBytes}");
        if (8 + (long)headerLength > length)
            throw Bad(path, $"its header claims {headerLength} bytes but the file is truncated at {length} bytes");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength, dataLength = length - dataStart;

        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Bad(path, $"its header is not valid JSON ({e.Message})");
        }
        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "its header is not a JSON object");
            var entries = new Dictionary<string, SafeTensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Bad(path, "__metadata__ is not an object");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw Bad(path, $"__metadata__.{m.Name} is not a string");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries[property.Name] = ParseEntry(path, property.Name, property.Value, dataLength);
            }
            CheckNoOverlap(path, entries.Values);
            return new SafeTensorsFile(path, dataStart, entries, metadata);
        }
    }

    /// <summary>Reads one tensor onto the CPU (a new tensor the caller owns).</summary>
    public Tensor Load(string name)
    {
        var e = Entry(name);
        var bytes = new byte[e.End - e.Begin];
        using (var handle = File.OpenHandle(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            int read = RandomAccess.Read(handle, bytes, DataStart + e.Begin);
            if (read != bytes.Length) throw Bad(FilePath, $"tensor '{name}' is truncated");
        }
        var tensor = torch.empty(e.Shape, e.DType);
        if (bytes.Length > 0) tensor.bytes = bytes;
        return tensor;
    }

    /// <summary>Reads every tensor (new tensors the caller owns), by name.</summary>
    public Dictionary<string, Tensor> LoadAll() => entries.Keys.ToDictionary(n => n, Load, StringComparer.Ordinal);

    static SafeTensorsEntry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Bad(path, $"the entry for '{name}' is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeJson) || dtypeJson.ValueKind != JsonValueKind.String)
            throw Bad(path, $"'{name}' has no dtype");
        var dtypeName = dtypeJson.GetString()!;
        if (!SafeTensorsDType.TryParse(dtypeName, out var dtype, out var elementSize))
            throw Bad(path, $"'{name}' has dtype {dtypeName}; accepted: {string.Join(", ", SafeTensorsDType.Names)}");
        if (!value.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array)
            throw Bad(path, $"'{name}' has no shape");
        var shape = new List<long>();
        foreach (var d in shapeJson.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                throw Bad(path, $"'{name}' has an invalid shape {shapeJson.GetRawText()}");
            shape.Add(dim);
        }
        if (!value.TryGetProperty("data_offsets", out var offJson) || offJson.ValueKind != JsonValueKind.Array ||
            offJson.GetArrayLength() != 2 || offJson[0].ValueKind != JsonValueKind.Number || offJson[1].ValueKind != JsonValueKind.Number ||
            !offJson[0].TryGetInt64(out var begin) || !offJson[1].TryGetInt64(out var end))   // TryGetInt64 throws on a non-number
            throw Bad(path, $"'{name}' has no valid data_offsets [begin, end]");
        if (begin < 0 || end < begin || end > dataLength)
            throw Bad(path, $"'{name}' has data_offsets [{begin}, {end}] outside the {dataLength}-byte data section");
        long count;
        try
        {
            count = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * elementSize);
        }
        catch (OverflowException)
        {
            throw Bad(path, $"'{name}' has a shape too large to address");
        }
        if (end - begin != count)
            throw Bad(path, $"'{name}' has shape [{string.Join(", ", shape)}] of {dtypeName} ({count} bytes) but {end - begin} bytes of data");
        return new SafeTensorsEntry(name, dtype, shape.ToArray(), begin, end);
    }

    static void CheckNoOverlap(string path, IEnumerable<SafeTensorsEntry> entries)
    {
        SafeTensorsEntry? previous = null;
        foreach (var e in entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin))
        {
            if (previous is not null && e.Begin < previous.End)
                throw Bad(path, $"the data of '{previous.Name}' and '{e.Name}' overlap");
            previous = e;
        }
    }

    static InvalidDataException Bad(string path, string reason) =>
        new($"{path} is not a valid safetensors file: {reason}.");

    static string Abbreviate(IEnumerable<string> names)
    {
        var list = names.Order(StringComparer.Ordinal).ToList();
        return list.Count <= 8 ? string.Join(", ", list) : string.Join(", ", list.Take(8)) + $" and {list.Count - 8} more";
    }
}

/// <summary>One tensor's header entry: dtype, shape and byte range within the data section.</summary>
public sealed record SafeTensorsEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
