using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// Keys and values of one attention layer for every token seen so far, for scale-by-scale generation.
/// Tensors are [B, H, L_seen, hd]; the cache owns them.
/// </summary>
internal sealed class AttentionCache : IDisposable
{
    Tensor? keys;
    Tensor? values;

    /// <summary>Appends this step's keys and values; returns all of them, [B, H, L_seen + l, hd] each.</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        var newKeys = keys is null ? k.detach().clone() : torch.cat([keys, k], 2);
        var newValues = values is null ? v.detach().clone() : torch.cat([values, v], 2);
        keys?.Dispose();
        values?.Dispose();
        keys = newKeys.DetachFromDisposeScope();
        values = newValues.DetachFromDisposeScope();
        return (keys, values);
    }

    public void Dispose()
    {
        keys?.Dispose();
        values?.Dispose();
        keys = values = null;
    }
}
