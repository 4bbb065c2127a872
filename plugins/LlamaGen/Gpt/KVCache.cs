using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>Keys and values of one attention layer for every position generated so far.</summary>
public sealed class KVCache
{
    readonly Tensor keys;     // [B, Hkv, capacity, hd]
    readonly Tensor values;   // [B, Hkv, capacity, hd]

    public KVCache(long batch, int kvHeads, int capacity, int headDim, ScalarType dtype, Device device)
    {
        keys = torch.zeros([batch, kvHeads, capacity, headDim], dtype, device);
        values = torch.zeros([batch, kvHeads, capacity, headDim], dtype, device);
    }

    public long Capacity => keys.shape[2];

    /// <summary>Stores k, v [B, Hkv, S, hd] at positions start … start+S−1; returns views of positions 0 … start+S−1.</summary>
    public (Tensor Keys, Tensor Values) Append(int start, Tensor k, Tensor v)
    {
        long length = k.shape[2];
        if (start + length > Capacity)
            throw new InvalidOperationException($"KV cache of {Capacity} positions cannot hold positions up to {start + length}.");
        keys.narrow(2, start, length).copy_(k);
        values.narrow(2, start, length).copy_(v);
        return (keys.narrow(2, 0, start + length), values.narrow(2, 0, start + length));
    }
}
