using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace IAR.Host.Serialization;

/// <summary>
/// The NPY format, version 1.0 (numpy's .npy): magic "\x93NUMPY", version 1 0, a little-endian uint16 header length,
/// an ASCII Python-dict header padded with spaces and ending in '\n' so that the data starts at a multiple of 64 bytes,
/// then the raw C-order data.
/// </summary>
public static class NpyArray
{
    public static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Header bytes preceding the data; numpy itself aligns to 64 (the spec requires 16).</summary>
    public const int Alignment = 64;

    /// <summary>The complete header for C-order data of a numpy dtype string (e.g. "|u1", "&lt;i8") and shape.</summary>
    public static byte[] Header(string descr, IReadOnlyList<long> shape)
    {
        // numpy writes a 1-tuple as "(n,)"
        var dims = shape.Count == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))})";
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}";
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = (Alignment - unpadded % Alignment) % Alignment;
        var text = dict + new string(' ', padding) + "\n";
        if (text.Length > ushort.MaxValue) throw new ArgumentException("The NPY header is too long for format version 1.0.", nameof(shape));
        var header = new byte[Magic.Length + 4 + text.Length];
        Magic.CopyTo(header, 0);
        header[6] = 1;
        header[7] = 0;
        BitConverter.TryWriteBytes(header.AsSpan(8, 2), (ushort)text.Length);
        Encoding.ASCII.GetBytes(text).CopyTo(header, 10);
        return header;
    }

    /// <summary>Writes header then data.</summary>
    public static void Write(Stream output, string descr, IReadOnlyList<long> shape, ReadOnlySpan<byte> data)
    {
        long expected = shape.Aggregate(1L, (a, b) => a * b) * ItemSize(descr);
        if (data.Length != expected)
            throw new ArgumentException($"NPY data of shape ({string.Join(", ", shape)}) and dtype {descr} needs {expected} bytes; got {data.Length}.");
        output.Write(Header(descr, shape));
        output.Write(data);
    }

    static int ItemSize(string descr) => int.Parse(descr[2..], CultureInfo.InvariantCulture);

    /// <summary>Largest header read; numpy itself refuses headers over 10,000 bytes unless told otherwise.</summary>
    public const int MaxHeaderBytes = 1 << 16;

    /// <summary>
    /// Reads an .npy header from <paramref name="s"/> (versions 1–3) and checks that the data it declares, C-order
    /// <c>descr</c> × shape, is exactly the rest of the <paramref name="length"/> bytes: so a caller may allocate what the
    /// header says, never more than the file holds.
    /// </summary>
    /// <returns>The dtype string, the shape and the offset of the data.</returns>
    /// <exception cref="InvalidDataException">Not an .npy array, Fortran order, a malformed or oversized header, or a size that does not match.</exception>
    public static (string Descr, long[] Shape, long DataOffset) ReadHeader(Stream s, long length, string source)
    {
        var prefix = new byte[10];
        if (s.ReadAtLeast(prefix, 10, throwOnEndOfStream: false) < 10 || !prefix.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{source}: an entry is not an .npy array.");
        int major = prefix[6];
        long headerLength, consumed = 10;
        if (major == 1) headerLength = BitConverter.ToUInt16(prefix, 8);
        else if (major is 2 or 3)
        {
            var more = new byte[2];
            if (s.ReadAtLeast(more, 2, throwOnEndOfStream: false) < 2) throw new InvalidDataException($"{source}: an .npy header is truncated.");
            consumed += 2;
            headerLength = BitConverter.ToUInt32([prefix[8], prefix[9], more[0], more[1]]);
        }
        else throw new InvalidDataException($"{source}: an .npy array has format version {major}; versions 1 to 3 are read.");
        if (headerLength > MaxHeaderBytes || headerLength > length - consumed)
            throw new InvalidDataException($"{source}: an .npy header claims {headerLength} bytes (at most {MaxHeaderBytes}, and within the entry's {length}).");
        var text = new byte[headerLength];
        if (s.ReadAtLeast(text, text.Length, throwOnEndOfStream: false) < text.Length) throw new InvalidDataException($"{source}: an .npy header is truncated.");
        var dict = Encoding.ASCII.GetString(text);
        var descr = Regex.Match(dict, @"'descr':\s*'([^']*)'").Groups[1].Value;
        if (Regex.IsMatch(dict, @"'fortran_order':\s*True"))
            throw new InvalidDataException($"{source}: Fortran-order arrays are not accepted.");
        var shapeText = Regex.Match(dict, @"'shape':\s*\(([^)]*)\)");
        if (!shapeText.Success) throw new InvalidDataException($"{source}: an .npy header has no shape.");
        var shape = shapeText.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
                : throw new InvalidDataException($"{source}: an .npy shape has the dimension '{d}', not a non-negative integer."))
            .ToArray();
        var itemSize = descr.Length >= 3 && int.TryParse(descr.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size is > 0 and <= 16
            ? size : throw new InvalidDataException($"{source}: an .npy array has dtype '{descr}', which is not a plain number type.");
        long dataOffset = consumed + headerLength, bytes;
        try
        {
            bytes = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * itemSize);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{source}: an .npy array of shape ({string.Join(", ", shape)}) is too large to address.");
        }
        if (bytes != length - dataOffset)
            throw new InvalidDataException($"{source}: an .npy array of {descr} ({string.Join(", ", shape)}) needs {bytes} bytes of data but the entry has {length - dataOffset}.");
        return (descr, shape, dataOffset);
    }

    /// <summary>
    /// An .npy array of little-endian integers (1, 2, 4 or 8 bytes, signed or not) as int64 (unsigned 64-bit values
    /// above 2⁶³ − 1 read as negative, so a range check refuses them); at most <paramref name="maxElements"/> are allocated.
    /// </summary>
    public static (long[] Shape, long[] Values) ReadIntegers(string file, long maxElements)
    {
        using var stream = File.OpenRead(file);
        var (descr, shape, offset) = ReadHeader(stream, stream.Length, file);
        if (descr.Length != 3 || descr[0] is not ('<' or '|' or '=') || descr[1] is not ('i' or 'u') || descr[2] is not ('1' or '2' or '4' or '8'))
            throw new InvalidDataException($"'{file}' holds numpy dtype '{descr}'; little-endian integers (<i8, <i4, <i2, |u1, …) are accepted.");
        long elements = shape.Aggregate(1L, (a, b) => a * b);   // checked by ReadHeader against the file's size
        if (elements > maxElements)
            throw new InvalidDataException($"'{file}' holds an array of shape ({string.Join(", ", shape)}); at most {maxElements} values are accepted here.");
        int size = descr[2] - '0';
        bool signed = descr[1] == 'i';
        var bytes = new byte[elements * size];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        var values = new long[elements];
        for (long i = 0; i < elements; i++)
        {
            var span = bytes.AsSpan((int)(i * size), size);
            values[i] = (size, signed) switch
            {
                (1, true) => (sbyte)span[0],
                (1, false) => span[0],
                (2, true) => BinaryPrimitives.ReadInt16LittleEndian(span),
                (2, false) => BinaryPrimitives.ReadUInt16LittleEndian(span),
                (4, true) => BinaryPrimitives.ReadInt32LittleEndian(span),
                (4, false) => BinaryPrimitives.ReadUInt32LittleEndian(span),
                _ => BinaryPrimitives.ReadInt64LittleEndian(span),
            };
        }
        return (shape, values);
    }
}
