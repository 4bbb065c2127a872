using System.Globalization;
using IAR.Host.Serialization;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// The checkpoints of one training job: <c>step-NNNNNNNN.safetensors</c> files, each written atomically (temp file,
/// then rename) and identified by the step in its metadata, not by its name. After a new checkpoint is complete
/// the oldest ones beyond <see cref="Keep"/> are deleted, so a good checkpoint always exists on disk.
/// </summary>
public sealed class CheckpointFolder(string path, int keep)
{
    public string Path { get; } = path;

    /// <summary>How many of the newest checkpoints are kept (at least 1).</summary>
    public int Keep { get; } = Math.Max(1, keep);

    /// <summary>Writes the checkpoint of <paramref name="step"/>, then prunes the older ones.</summary>
    /// <exception cref="IOException">The folder or file cannot be written; earlier checkpoints are untouched.</exception>
    public string Write(long step, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var file = System.IO.Path.Combine(Path, $"step-{step:D8}.safetensors");
        try
        {
            Directory.CreateDirectory(Path);
            SafeTensorsWriter.Write(file, tensors, metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Cannot write checkpoint {file}: {e.Message}", e);
        }
        foreach (var old in List().Where(c => c.Step != step).OrderByDescending(c => c.Step).Skip(Keep - 1))
            File.Delete(old.Path);
        return file;
    }

    /// <summary>The readable checkpoints with their steps (from metadata), oldest first; damaged files are reported to <paramref name="warn"/>.</summary>
    public IReadOnlyList<(long Step, string Path)> List(Action<string>? warn = null)
    {
        if (!Directory.Exists(Path)) return [];
        var found = new List<(long, string)>();
        foreach (var file in Directory.GetFiles(Path, "*.safetensors").Where(f => !System.IO.Path.GetFileName(f).StartsWith('.')))
        {
            try
            {
                var meta = SafeTensorsFile.Open(file).Metadata;
                if (meta.TryGetValue(TrainingCheckpoint.Keys.Step, out var text) &&
                    long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var step))
                    found.Add((step, file));
                else
                    warn?.Invoke($"{file} is not a training checkpoint (no {TrainingCheckpoint.Keys.Step}); it is ignored.");
            }
            catch (InvalidDataException e)
            {
                warn?.Invoke($"{e.Message} It is ignored.");
            }
        }
        return found.OrderBy(f => f.Item1).ToArray();
    }

    /// <summary>The newest readable checkpoint, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">Files exist but none of them is a readable checkpoint.</exception>
    public string? Latest(Action<string>? warn = null)
    {
        var all = List(warn);
        if (all.Count > 0) return all[^1].Path;
        if (Directory.Exists(Path) && Directory.GetFiles(Path, "*.safetensors").Any(f => !System.IO.Path.GetFileName(f).StartsWith('.')))
            throw new InvalidDataException(
                $"No checkpoint in {Path} is readable; move the folder away to train from scratch, or start the run over with --fresh.");
        return null;
    }

    /// <summary>Deletes temp files left by a process killed while writing.</summary>
    public void RemoveStaleTempFiles()
    {
        if (!Directory.Exists(Path)) return;
        foreach (var temp in Directory.GetFiles(Path, ".*.tmp")) File.Delete(temp);
    }
}
