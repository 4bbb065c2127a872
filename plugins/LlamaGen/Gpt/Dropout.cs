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
/// SplitMix64(key + (e/2 + 1)·γ) are at least ⌈p·2²⁴⌉ — the same 24-bit resolution as <c>torch.rand(…) ≥ p</c>.
/// In training (<see cref="DropoutMasks"/> with the batch's <see cref="MaskKey"/>) the key of the n-th mask of a forward
/// pass is SplitMix64(step key + n·γ) and e counts from the batch's first global sample, so a mask element is a function
/// of (step, global sample, element within the sample): 2 ranks × 2 micro-batches draw what one process draws for the
/// whole batch, a resumed run what an uninterrupted one draws, and the thread count changes nothing. Without a key
/// (<see cref="Apply(Tensor, double)"/>) the key is one draw from the global generator. On other devices libtorch's
/// fused kernel is used, from each process's own generator: there the masks depend on the split.
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

    /// <summary>x [...] → x with each element zeroed with probability <paramref name="p"/>, the rest scaled by 1/(1−p); the key from the global generator.</summary>
    public static Tensor Apply(Tensor x, double p)
    {
        if (!HostRead.IsFree(x)) return F.dropout(x, p);
        using var scope = torch.NewDisposeScope();
        var key = (ulong)HostRead.Long(torch.randint(0, long.MaxValue, [1], ScalarType.Int64));
        return Apply(x, p, key, firstElement: 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Apply(Tensor, double)"/> with the mask of elements <paramref name="firstElement"/> … of the key's
    /// stream: x is that part of a larger tensor, whose mask is the same whichever part is computed where. CPU only.
    /// </summary>
    public static Tensor Apply(Tensor x, double p, ulong key, long firstElement)
    {
        using var scope = torch.NewDisposeScope();
        var keep = KeepMask(x.shape, p, key, firstElement);                   // [...] float32: 0 or 1/(1−p)
        // Scaled in float32, then rounded to x's type: a bf16 mask would hold 1/(1−p) rounded (1.109375 for p = 0.1,
        // −0.16 %), shrinking every kept activation and its gradient by the same factor, a bias where rounding each
        // product is none. For float32 x this is the same single multiply as before, to the bit.
        var scaled = x.mul(keep);
        return (scaled.dtype == x.dtype ? scaled : scaled.to(x.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The scaled keep mask of <see cref="Apply(Tensor, double, ulong, long)"/>: float32 [shape], 0 or 1/(1−p), for
    /// elements <paramref name="firstElement"/> … of <paramref name="key"/>'s stream in row-major order.
    /// </summary>
    public static Tensor KeepMask(long[] shape, double p, ulong key, long firstElement = 0)
    {
        if (p is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegative(firstElement);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var threshold = (uint)Math.Ceiling(p * (1 << UniformBits));
        float scale = 1f / (float)(1 - p);                                         // as libtorch's div_(1 − p) rounds it
        using var scope = torch.NewDisposeScope();
        var chunks = new List<Tensor>();
        for (long first = 0; first < count || chunks.Count == 0; first += Chunk)
        {
            int length = (int)Math.Min(Chunk, count - first);
            var values = (buffer is { } b && b.Length >= length ? b : buffer = new float[Math.Max(length, 1)]).AsSpan(0, length);
            Fill(values, firstElement + first, key, threshold, scale);
            var chunk = torch.empty(length, ScalarType.Float32);
            if (length > 0) chunk.bytes = MemoryMarshal.AsBytes(values);
            chunks.Add(chunk);
        }
        var mask = chunks.Count == 1 ? chunks[0] : torch.cat(chunks);
        return mask.view(shape).MoveToOuterDisposeScope();
    }

    /// <summary>The key of the <paramref name="site"/>-th mask (from 1) of a forward pass whose step key is <paramref name="step"/>.</summary>
    public static ulong SiteKey(ulong step, long site) => SplitMix((ulong)site * Golden + step);

    static ulong SplitMix(ulong z)
    {
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    /// <summary>keep[i] for elements first + i; 16 at a time where AVX-512 is there, the same values one by one otherwise.</summary>
    static void Fill(Span<float> keep, long first, ulong key, uint threshold, float scale)
    {
        // Element e uses the low 32 bits of hash(e/2) when e is even, the high ones when odd: one 64-bit hash per pair,
        // laid out so that a Vector512<ulong> of eight hashes is sixteen 32-bit halves in element order. An odd first
        // element (a sample offset of odd size) is done alone so that the vector loop starts on a pair.
        int i = 0;
        if ((first & 1) != 0 && keep.Length > 0) keep[i++] = Keep(first, key, threshold, scale);
        if (Vector512.IsHardwareAccelerated)
        {
            var pair = Vector512.Create(1UL, 2, 3, 4, 5, 6, 7, 8) + Vector512.Create((ulong)((first + i) / 2));
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
        for (; i < keep.Length; i++) keep[i] = Keep(first + i, key, threshold, scale);
    }

    static float Keep(long element, ulong key, uint threshold, float scale)
    {
        ulong z = SplitMix((ulong)(element / 2 + 1) * Golden + key);
        uint half = (element & 1) == 0 ? (uint)z : (uint)(z >> 32);
        return half >> (32 - UniformBits) >= threshold ? scale : 0f;
    }
}

/// <summary>
/// The dropout masks of one forward pass of the GPT, in the order its layers draw them: keyed by the batch's
/// <see cref="MaskKey"/> (the n-th mask with <see cref="Dropout.SiteKey"/>(step, n), its rows at their global sample
/// offsets) where there is one and the tensor is on the CPU; otherwise <see cref="Dropout.Apply(Tensor, double)"/>.
/// </summary>
public sealed class DropoutMasks(MaskKey? key)
{
    long site;

    /// <summary>x [B, ...] → x with each element dropped with probability <paramref name="p"/>, survivors scaled by 1/(1−p).</summary>
    public Tensor Apply(Tensor x, double p)
    {
        if (key is not { } k || !HostRead.IsFree(x)) return Dropout.Apply(x, p);
        long perSample = x.shape[0] == 0 ? 0 : x.NumberOfElements / x.shape[0];
        return Dropout.Apply(x, p, Dropout.SiteKey(k.Step, ++site), k.FirstSample * perSample);
    }
}
