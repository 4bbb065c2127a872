using System.Buffers.Binary;
using System.Text;

namespace IAR.Host.Serialization;

/// <summary>
/// A zip of uncompressed ("stored") entries written entry by entry, straight to disk: each entry's size is declared up
/// front (so no data descriptor is needed and nothing is buffered), its CRC-32 is accumulated while writing and patched
/// into the local header at the end. Every entry carries Zip64 sizes, so an entry past 4 GB (50,000 images of
/// 256×256×3) is as valid as a small one; numpy's <c>np.load</c> (Python's zipfile) reads it. The file appears at
/// its path only on <see cref="Complete"/> (temp file, then rename); disposing before that deletes it.
/// </summary>
public sealed class StoredZipWriter : IDisposable
{
    const ushort Zip64Version = 45;
    const ushort DosDate = (0 << 9) | (1 << 5) | 1;   // 1980-01-01

    readonly string path;
    readonly string temp;
    readonly FileStream stream;
    readonly List<(byte[] Name, long Offset, long Size, uint Crc)> entries = [];
    (byte[] Name, long Offset, long Size, long Written, uint Crc)? current;
    bool completed;

    public StoredZipWriter(string path)
    {
        this.path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(this.path)!);
        temp = Path.Combine(Path.GetDirectoryName(this.path)!, $".{Path.GetFileName(this.path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20);
    }

    /// <summary>Starts an entry of exactly <paramref name="size"/> bytes.</summary>
    public void BeginEntry(string name, long size)
    {
        if (current is not null) throw new InvalidOperationException("The previous zip entry is not finished.");
        var nameBytes = Encoding.UTF8.GetBytes(name);
        long offset = stream.Position;
        Span<byte> h = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Zip64Version);
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], DosDate);
        // h[14..18] CRC-32, patched by EndEntry; sizes live in the Zip64 extra field.
        BinaryPrimitives.WriteUInt32LittleEndian(h[18..], uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(h[22..], uint.MaxValue);
        BinaryPrimitives.WriteUInt16LittleEndian(h[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], 20);
        stream.Write(h);
        stream.Write(nameBytes);
        Span<byte> extra = stackalloc byte[20];
        BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
        BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 16);
        BinaryPrimitives.WriteInt64LittleEndian(extra[4..], size);
        BinaryPrimitives.WriteInt64LittleEndian(extra[12..], size);
        stream.Write(extra);
        current = (nameBytes, offset, size, 0, 0);
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        var c = current ?? throw new InvalidOperationException("No zip entry is open.");
        if (c.Written + data.Length > c.Size)
            throw new InvalidOperationException($"Zip entry {Encoding.UTF8.GetString(c.Name)} was declared {c.Size} bytes; writing {c.Written + data.Length}.");
        stream.Write(data);
        current = c with { Written = c.Written + data.Length, Crc = Crc32.Zip.Append(c.Crc, data) };
    }

    public void EndEntry()
    {
        var c = current ?? throw new InvalidOperationException("No zip entry is open.");
        if (c.Written != c.Size)
            throw new InvalidOperationException($"Zip entry {Encoding.UTF8.GetString(c.Name)} was declared {c.Size} bytes but {c.Written} were written.");
        long end = stream.Position;
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, c.Crc);
        stream.Position = c.Offset + 14;
        stream.Write(crc);
        stream.Position = end;
        entries.Add((c.Name, c.Offset, c.Size, c.Crc));
        current = null;
    }

    /// <summary>Writes the central directory (Zip64), flushes and moves the file into place.</summary>
    public void Complete()
    {
        if (current is not null) throw new InvalidOperationException("The last zip entry is not finished.");
        long directoryStart = stream.Position;
        Span<byte> h = stackalloc byte[46];
        Span<byte> extra = stackalloc byte[28];
        foreach (var e in entries)
        {
            h.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Zip64Version);
            BinaryPrimitives.WriteUInt16LittleEndian(h[6..], Zip64Version);
            BinaryPrimitives.WriteUInt16LittleEndian(h[14..], DosDate);
            BinaryPrimitives.WriteUInt32LittleEndian(h[16..], e.Crc);
            BinaryPrimitives.WriteUInt32LittleEndian(h[20..], uint.MaxValue);
            BinaryPrimitives.WriteUInt32LittleEndian(h[24..], uint.MaxValue);
            BinaryPrimitives.WriteUInt16LittleEndian(h[28..], (ushort)e.Name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(h[30..], 28);
            BinaryPrimitives.WriteUInt32LittleEndian(h[42..], uint.MaxValue);
            stream.Write(h);
            stream.Write(e.Name);
            BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 24);
            BinaryPrimitives.WriteInt64LittleEndian(extra[4..], e.Size);
            BinaryPrimitives.WriteInt64LittleEndian(extra[12..], e.Size);
            BinaryPrimitives.WriteInt64LittleEndian(extra[20..], e.Offset);
            stream.Write(extra);
        }
        long directoryEnd = stream.Position, directorySize = directoryEnd - directoryStart;

        Span<byte> z = stackalloc byte[56 + 20 + 22];
        z.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(z, 0x06064b50);                  // Zip64 end of central directory
        BinaryPrimitives.WriteInt64LittleEndian(z[4..], 44);
        BinaryPrimitives.WriteUInt16LittleEndian(z[12..], Zip64Version);
        BinaryPrimitives.WriteUInt16LittleEndian(z[14..], Zip64Version);
        BinaryPrimitives.WriteInt64LittleEndian(z[24..], entries.Count);
        BinaryPrimitives.WriteInt64LittleEndian(z[32..], entries.Count);
        BinaryPrimitives.WriteInt64LittleEndian(z[40..], directorySize);
        BinaryPrimitives.WriteInt64LittleEndian(z[48..], directoryStart);
        var locator = z[56..];                                                    // its locator
        BinaryPrimitives.WriteUInt32LittleEndian(locator, 0x07064b50);
        BinaryPrimitives.WriteInt64LittleEndian(locator[8..], directoryEnd);
        BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
        var end = z[76..];                                                        // classic end record, deferring to Zip64
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], (ushort)Math.Min(entries.Count, 0xFFFF));
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], (ushort)Math.Min(entries.Count, 0xFFFF));
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], uint.MaxValue);
        stream.Write(z);
        stream.Flush(flushToDisk: true);
        stream.Dispose();
        File.Move(temp, path, overwrite: true);
        completed = true;
    }

    public void Dispose()
    {
        if (completed) return;
        stream.Dispose();
        try { File.Delete(temp); } catch (IOException) { /* best effort */ }
    }
}
