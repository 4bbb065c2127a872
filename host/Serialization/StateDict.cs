using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>Loads and saves a module's state dict as safetensors, with every mismatch reported by name.</summary>
public static class StateDict
{
    /// <summary>Prefix that torch.compile adds to every key; official checkpoints sometimes carry it.</summary>
    public const string CompiledPrefix = "_orig_mod.";

    /// <summary>Copies the tensors into the module's parameters and buffers (in place, converting dtype).</summary>
    /// <param name="what">What the module is, for messages, e.g. <c>LlamaGen/GPT-B</c>.</param>
    /// <exception cref="InvalidDataException">Keys are missing, unexpected or of the wrong shape (all are named).</exception>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string source, string what)
    {
        var target = module.state_dict();
        var given = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in tensors)
            given[key.StartsWith(CompiledPrefix, StringComparison.Ordinal) ? key[CompiledPrefix.Length..] : key] = tensor;

        var missing = target.Keys.Where(k => !given.ContainsKey(k)).ToList();
        var unexpected = given.Keys.Where(k => !target.ContainsKey(k)).ToList();
        var mismatched = given.Where(kv => target.TryGetValue(kv.Key, out var t) && !t.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.shape)}] where the model has [{string.Join(", ", target[kv.Key].shape)}]")
            .ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing keys: {Abbreviate(missing)}");
            if (unexpected.Count > 0) parts.Add($"unexpected keys: {Abbreviate(unexpected)}");
            if (mismatched.Count > 0) parts.Add($"wrong shapes: {Abbreviate(mismatched)}");
            throw new InvalidDataException($"Checkpoint {source} does not fit {what}: {string.Join("; ", parts)}.");
        }
        using var _ = torch.no_grad();
        foreach (var (key, tensor) in given) target[key].copy_(tensor);
    }

    /// <summary>
    /// Loads a checkpoint file into the module: safetensors, or a PyTorch <c>.pt</c>/<c>.pth</c> (its <c>model</c> /
    /// <c>module</c> / <c>state_dict</c> / <c>ema</c> entry, or a bare state dict) read without running code; see
    /// <see cref="Load(nn.Module, IReadOnlyDictionary{string, Tensor}, string, string)"/>.
    /// </summary>
    /// <returns>The file's metadata (safetensors <c>__metadata__</c>, or a PyTorch file's plain values).</returns>
    public static IReadOnlyDictionary<string, string> Load(nn.Module module, string path, string what)
    {
        using var checkpoint = CheckpointFile.Read(path);
        Load(module, checkpoint.Tensors, path, what);
        return checkpoint.Metadata;
    }

    /// <summary>Writes the module's state dict (parameters and persistent buffers) atomically.</summary>
    public static void Save(nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensorsWriter.Write(path, module.state_dict(), metadata);

    static string Abbreviate(IReadOnlyList<string> items) =>
        items.Count <= 6 ? string.Join(", ", items) : string.Join(", ", items.Take(6)) + $" and {items.Count - 6} more";
}
