using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace IAR.Host.Training;

/// <summary>
/// Independent random streams from one experiment seed: batch order, augmentation, initialisation and the global
/// torch generator each get their own seed, so that adding draws to one stream never shifts another.
/// </summary>
public static class DerivedSeed
{
    /// <summary>A non-negative 63-bit seed: the first 8 bytes of SHA-256("seed/purpose/index").</summary>
    public static long Of(long seed, string purpose, long index = 0)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{purpose}/{index}"));
        return (long)(BinaryPrimitives.ReadUInt64LittleEndian(digest) >> 1);
    }
}
