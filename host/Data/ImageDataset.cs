using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Data;

/// <summary>
/// A labelled image set at the tokenizer's input size: pixels are stored (or decoded) as bytes and become float
/// [-1, 1] only per batch, so a dataset costs C·H·W bytes per image however it is used.
/// </summary>
public abstract class ImageDataset : IDisposable
{
    /// <summary>One line for logs: what, how many, from where.</summary>
    public abstract string Description { get; }

    public abstract int Count { get; }

    /// <summary>[C, H, W] of every image (after padding or crop-and-resize).</summary>
    public abstract ImageShape Shape { get; }

    /// <summary>Labels are in [0, NumClasses).</summary>
    public int NumClasses => ClassNames.Count;

    public abstract IReadOnlyList<string> ClassNames { get; }

    /// <summary>int64 [N] on the CPU (owned by the dataset).</summary>
    public abstract Tensor Labels { get; }

    /// <summary>
    /// A short hash that changes when the images or labels change; the token cache records it so that a cache is
    /// never paired with other data.
    /// </summary>
    public abstract string Fingerprint { get; }

    /// <summary>uint8 [B, C, H, W] of the images at <paramref name="indices"/> (int64 [B]).</summary>
    public abstract Tensor Pixels(Tensor indices);

    /// <summary>
    /// float32 [B, C, H, W] in [-1, 1] (x / 127.5 − 1, LlamaGen's normalisation), mirrored left–right where
    /// <paramref name="flip"/> (bool [B]) is true.
    /// </summary>
    public Tensor Images(Tensor indices, Tensor? flip = null)
    {
        using var scope = torch.NewDisposeScope();
        var images = Pixels(indices).to(ScalarType.Float32).div_(127.5).sub_(1.0);
        if (flip is not null)
            images = torch.where(flip.view(-1, 1, 1, 1), images.flip(3), images);
        return images.MoveToOuterDisposeScope();
    }

    public abstract void Dispose();
}
