namespace IAR.Host.Serialization;

/// <summary>
/// Writes a file so that readers only ever see the old or the new complete file: write a temp file in the same
/// folder, flush it to disk, then rename over the target. A crash leaves at most a stray temp file.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        using var file = new PendingFile(path);
        write(file.Stream);
        file.Commit();
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
            w.Write(text);
        });
}

/// <summary>
/// A file written piece by piece (e.g. a sample archive batch by batch) that appears at its path only on
/// <see cref="Commit"/>: <see cref="Stream"/> is a temp file in the same folder, flushed to disk and renamed over the
/// target. Disposing it uncommitted deletes the temp file.
/// </summary>
public sealed class PendingFile : IDisposable
{
    readonly string path;
    readonly string temp;
    bool committed;

    public PendingFile(string path, int bufferSize = 1 << 16)
    {
        this.path = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(this.path)!;
        Directory.CreateDirectory(dir);
        temp = Path.Combine(dir, $".{Path.GetFileName(this.path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize);
    }

    /// <summary>The temp file; seekable, so a zip written on it patches its local headers in place.</summary>
    public FileStream Stream { get; }

    public void Commit()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(temp, path, overwrite: true);
        committed = true;
    }

    public void Dispose()
    {
        if (committed) return;
        Stream.Dispose();
        try { File.Delete(temp); } catch (IOException) { /* best effort */ }
    }
}
