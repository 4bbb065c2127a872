namespace IAR.Host.Serialization;

/// <summary>
/// Table-driven reflected CRC-32 for the two polynomials the project's writers need: zip's (IEEE 802.3, 0xEDB88320)
/// for streamed .npz entries and Castagnoli's (CRC-32C, 0x82F63B78) for TensorBoard's TFRecord framing. The BCL has
/// neither in-box (System.IO.Hashing is a separate package).
/// </summary>
public sealed class Crc32
{
    public static readonly Crc32 Zip = new(0xEDB88320u);
    public static readonly Crc32 Castagnoli = new(0x82F63B78u);

    readonly uint[] table = new uint[256];

    Crc32(uint polynomial)
    {
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? polynomial ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    }

    /// <summary>The CRC of <paramref name="data"/> continuing from <paramref name="crc"/> (0 to start).</summary>
    public uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        foreach (byte b in data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    public uint Compute(ReadOnlySpan<byte> data) => Append(0, data);
}
