using System.Buffers.Binary;
using System.IO.Compression;
using IAR.Host.Serialization;

namespace IAR.Host.Data;

/// <summary>
/// An IDX file (the MNIST/Fashion-MNIST format, raw or gzip): big-endian magic 0x00 0x00 type ndim, ndim big-endian
/// u32 sizes, then the data. Only unsigned-byte data (type 0x08) is used by image datasets.
/// </summary>
public sealed class IdxFile
{
    const byte UnsignedByte = 0x08;

    IdxFile(int[] dims, byte[] data)
    {
        Dimensions = dims;
        Data = data;
    }

    /// <summary>The sizes, e.g. [60000, 28, 28] for images and [60000] for labels.</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The values, row-major.</summary>
    public byte[] Data { get; }

    /// <summary>Number of items (the first dimension).</summary>
    public int Count => Dimensions[0];

    /// <summary>Values per item (product of the other dimensions).</summary>
    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, b) => a * b);

    /// <exception cref="InvalidDataException">Not an unsigned-byte IDX file, or truncated.</exception>
    public static IdxFile Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        // The header is read first and the data it declares charged to the file's budget, so a gzip bomb (a kilobyte
        // that inflates to gigabytes) is refused before it is inflated; then exactly that many bytes must follow.
        try
        {
            using var file = File.OpenRead(path);
            using var input = IsGzip(file) ? (Stream)new GZipStream(file, CompressionMode.Decompress) : file;
            var magic = new byte[4];
            if (input.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4 || magic[0] != 0 || magic[1] != 0)
                throw new InvalidDataException($"{path} is not an IDX file: it does not start with the IDX magic 00 00.");
            if (magic[2] != UnsignedByte)
                throw new InvalidDataException($"{path} holds IDX data of type 0x{magic[2]:x2}; only unsigned bytes (0x08) are accepted.");
            int ndim = magic[3];
            var sizes = new byte[4 * ndim];
            if (ndim < 1 || input.ReadAtLeast(sizes, sizes.Length, throwOnEndOfStream: false) < sizes.Length)
                throw new InvalidDataException($"{path} is not a valid IDX file: its header is truncated.");
            var dims = new int[ndim];
            // The item size (every dimension after the first) is bounded on its own too: with a first dimension of 0
            // the data is empty whatever follows, and ItemSize (an int) would wrap (0 × 65536 × 65536 gave 0).
            long expected = 1, item = 1;
            for (int i = 0; i < ndim; i++)
            {
                uint d = BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(4 * i));
                if (i > 0 && d <= int.MaxValue) item *= d;
                if (d > int.MaxValue || (expected = expected * d) > Array.MaxLength || item > Array.MaxLength)
                    throw new InvalidDataException($"{path} declares IDX sizes ({string.Join("x", sizes.Chunk(4).Select(c => BinaryPrimitives.ReadUInt32BigEndian(c)))}) too large to hold.");
                dims[i] = (int)d;
            }
            LoadBudget.ForFile(path, file.Length).Charge(expected, "its IDX data");
            var data = new byte[expected];
            int have = input.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            if (have < expected || input.ReadByte() >= 0)
                throw new InvalidDataException(
                    $"{path} is {(have < expected ? "truncated" : "too long")}: its header declares {expected} values ({string.Join("x", dims)}) but it holds {(have < expected ? have.ToString(System.Globalization.CultureInfo.InvariantCulture) : "more")}.");
            return new IdxFile(dims, data);
        }
        catch (InvalidDataException e) when (e.Source == "System.IO.Compression")
        {
            throw new InvalidDataException($"{path} is not a readable IDX file: its gzip stream is corrupt ({e.Message}).", e);
        }
    }

    /// <summary>Writes an unsigned-byte IDX file, gzip-compressed when the name ends in .gz (atomically).</summary>
    public static void Write(string path, IReadOnlyList<int> dims, ReadOnlySpan<byte> data)
    {
        var copy = data.ToArray();
        Serialization.AtomicFile.Write(path, stream =>
        {
            using var output = path.EndsWith(".gz", StringComparison.Ordinal)
                ? (Stream)new GZipStream(stream, CompressionLevel.SmallestSize, leaveOpen: true)
                : new NonClosingStream(stream);
            output.Write([0, 0, UnsignedByte, (byte)dims.Count]);
            Span<byte> size = stackalloc byte[4];
            foreach (var d in dims)
            {
                BinaryPrimitives.WriteUInt32BigEndian(size, (uint)d);
                output.Write(size);
            }
            output.Write(copy);
        });
    }

    static bool IsGzip(FileStream file)
    {
        Span<byte> head = stackalloc byte[2];
        int read = file.Read(head);
        file.Position = 0;
        return read == 2 && head[0] == 0x1f && head[1] == 0x8b;
    }

    /// <summary>Lets a using block end without closing the atomic writer's stream.</summary>
    sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
