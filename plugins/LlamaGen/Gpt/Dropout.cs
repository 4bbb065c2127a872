using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// Inverted dropout (survivors scaled by 1/(1−p)) for the GPT's token, residual and FFN dropout. On the CPU the mask
/// comes from a counter-based generator, not from libtorch, whose uniform sampler runs on one thread: 2.7–4.6 ms per
/// million elements, and a GPT-S step draws nine such masks; hashing the element indices makes one in 0.23–0.29 ms
/// (bench <c>dropout</c>). Element e keeps its value when the top 24 bits of one half of
/// SplitMix64(key + (e/2 + 1)·γ) are at least ⌈p·2²⁴⌉ — the same 24-bit resolution as <c>torch.rand(…) ≥ p</c>. The key
/// is one draw from the global generator, so the same seed gives the same masks, a resumed run (whose checkpoint
/// carries the generator) the same masks as an uninterrupted one, and the thread count changes nothing. Reading the
/// key is a host read of a CPU tensor, not a synchronisation. On other devices libtorch's fused kernel is used.
/// </summary>
public static class Dropout
{
    const ulong Golden = 0x9E3779B97F4A7C15UL;
    const ulong Mix1 = 0xBF58476D1CE4E5B9UL;
    const ulong Mix2 = 0x94D049BB133111EBUL;
    const int UniformBits = 24;

    /// <summary>Elements generated per managed buffer; larger tensors are made of several (a GPT-S mask has 2²⁰).</summary>
    const int Chunk = 1 << 24;

    [ThreadStatic] static float[]? buffer;

    /// <summary>x [...] → x with each element zeroed with probability <paramref name="p"/>, the rest scaled by 1/(1−p).</summary>
    public static Tensor Apply(Tensor x, double p)
    {
        if (!HostRead.IsFree(x)) return F.dropout(x, p);
        using var scope = torch.NewDisposeScope();
        var key = (ulong)HostRead.Long(torch.randint(0, long.MaxValue, [1], ScalarType.Int64));
        var keep = KeepMask(x.shape, p, key);                                   // [...] float32: 0 or 1/(1−p)
        return x.mul(keep.to(x.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>The scaled keep mask of <see cref="Apply"/> for one <paramref name="key"/>: float32 [shape], 0 or 1/(1−p).</summary>
    public static Tensor KeepMask(long[] shape, double p, ulong key)
    {
        if (p is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1].");
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var threshold = (uint)Math.Ceiling(p * (1 << UniformBits));
        float scale = 1f / (float)(1 - p);                                         // as libtorch's div_(1 − p) rounds it
        using var scope = torch.NewDisposeScope();
        var chunks = new List<Tensor>();
        for (long first = 0; first < count || chunks.Count == 0; first += Chunk)
        {
            int length = (int)Math.Min(Chunk, count - first);
            var values = (buffer is { } b && b.Length >= length ? b : buffer = new float[Math.Max(length, 1)]).AsSpan(0, length);
            Fill(values, first, key, threshold, scale);
            var chunk = torch.empty(length, ScalarType.Float32);
            if (length > 0) chunk.bytes = MemoryMarshal.AsBytes(values);
            chunks.Add(chunk);
        }
        var mask = chunks.Count == 1 ? chunks[0] : torch.cat(chunks);
        return mask.view(shape).MoveToOuterDisposeScope();
    }

    /// <summary>keep[i] for elements first + i; 16 at a time where AVX-512 is there, the same values one by one otherwise.</summary>
    static void Fill(Span<float> keep, long first, ulong key, uint threshold, float scale)
    {
        // Element e uses the low 32 bits of hash(e/2) when e is even, the high ones when odd: one 64-bit hash per pair,
        // laid out so that a Vector512<ulong> of eight hashes is sixteen 32-bit halves in element order.
        int i = 0;
        if (Vector512.IsHardwareAccelerated && (first & 1) == 0)
        {
            var pair = Vector512.Create(1UL, 2, 3, 4, 5, 6, 7, 8) + Vector512.Create((ulong)(first / 2));
            var step = Vector512.Create(8UL);
            var golden = Vector512.Create(Golden);
            var keyVector = Vector512.Create(key);
            var mix1 = Vector512.Create(Mix1);
            var mix2 = Vector512.Create(Mix2);
            var minimum = Vector512.Create(threshold);
            var scaleBits = Vector512.Create(BitConverter.SingleToUInt32Bits(scale));
            ref float output = ref MemoryMarshal.GetReference(keep);
            for (; i + 16 <= keep.Length; i += 16, pair += step)
            {
                var z = pair * golden + keyVector;
                z = (z ^ (z >>> 30)) * mix1;
                z = (z ^ (z >>> 27)) * mix2;
                z ^= z >>> 31;
                var kept = Vector512.GreaterThanOrEqual(z.AsUInt32() >>> (32 - UniformBits), minimum) & scaleBits;
                kept.AsSingle().StoreUnsafe(ref output, (nuint)i);
            }
        }
        for (; i < keep.Length; i++)
        {
            long element = first + i;
            ulong z = (ulong)(element / 2 + 1) * Golden + key;
            z = (z ^ (z >> 30)) * Mix1;
            z = (z ^ (z >> 27)) * Mix2;
            z ^= z >> 31;
            uint half = (element & 1) == 0 ? (uint)z : (uint)(z >> 32);
            keep[i] = half >> (32 - UniformBits) >= threshold ? scale : 0f;
        }
    }
}
