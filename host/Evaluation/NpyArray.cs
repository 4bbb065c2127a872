using System.Globalization;
using System.Text;

namespace IAR.Host.Evaluation;

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
}
