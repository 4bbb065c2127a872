using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>Writes tensors as one safetensors file, atomically (temp file, then rename).</summary>
public static class SafeTensorsWriter
{
    /// <param name="path">Target file; replaced only once the new one is complete.</param>
    /// <param name="tensors">Name → tensor; any device, any contiguity (copied to contiguous CPU memory).</param>
    /// <param name="metadata">Stored under <c>__metadata__</c> (strings only, as the format requires).</param>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var duplicate = ordered.GroupBy(kv => kv.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Tensor name '{duplicate.Key}' is given twice.");

        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var (name, tensor) in ordered)
        {
            long bytes = tensor.NumberOfElements * SafeTensorsDType.SizeOf(tensor.dtype);
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = SafeTensorsDType.NameOf(tensor.dtype),
                ["shape"] = tensor.shape,
                ["data_offsets"] = new[] { offset, offset + bytes },
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;

        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((ulong)padded));
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, tensor) in ordered)
            {
                if (tensor.NumberOfElements == 0) continue;
                using var cpu = tensor.detach().cpu().contiguous();
                stream.Write(cpu.bytes);
            }
        });
    }
}
