using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>Weights read from a checkpoint file: name → new CPU tensor (owned here; dispose to free) and string metadata.</summary>
public sealed class CheckpointTensors(Dictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata, string described)
    : IDisposable
{
    public Dictionary<string, Tensor> Tensors { get; } = tensors;

    /// <summary>safetensors <c>__metadata__</c>, or for a PyTorch file its plain values (<c>torch.steps</c>, <c>torch.args</c> as JSON).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

    /// <summary>What was read, e.g. <c>PyTorch checkpoint, entry 'model'</c>.</summary>
    public string Described { get; } = described;

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}

/// <summary>
/// Reads a checkpoint of either format the project accepts, told apart by content, not by file name: safetensors, or a
/// PyTorch <c>torch.save</c> zip (<c>.pt</c>/<c>.pth</c>) read without running code (<see cref="TorchCheckpoint"/>).
/// </summary>
public static class CheckpointFile
{
    /// <param name="entry">For PyTorch files, the dict entry holding the weights (<c>model</c>, <c>ema</c>…); null picks
    /// the first of <see cref="TorchCheckpoint.WeightEntries"/>, or the root when it is a bare state dict.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is malformed, truncated, or its pickle names a global that is not allowed.</exception>
    public static CheckpointTensors Read(string path, string? entry = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        if (!TorchCheckpoint.IsTorchZip(path))
        {
            if (entry is not null)
                throw new InvalidDataException($"{path} is a safetensors file, which has no entries; drop the entry '{entry}' (it applies to PyTorch .pt/.pth files).");
            var file = SafeTensorsFile.Open(path);
            return new CheckpointTensors(file.LoadAll(), file.Metadata, "safetensors");
        }
        using var checkpoint = TorchCheckpoint.Open(path);
        var (used, tensors) = checkpoint.StateDict(entry);
        return new CheckpointTensors(tensors, checkpoint.Metadata(),
            used is null ? "PyTorch state dict" : $"PyTorch checkpoint, entry '{used}'");
    }
}
