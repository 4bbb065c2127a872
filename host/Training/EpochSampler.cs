using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// The images of every step: an endless stream of epochs, each a fresh permutation of the data set drawn from
/// (seed, epoch). The batch of step s is positions s·B … s·B + B − 1 of that stream, a pure function of s, so a
/// resumed run sees exactly the batches an uninterrupted one would, with no sampler state to checkpoint.
/// </summary>
public sealed class EpochSampler
{
    readonly int count;
    readonly int batchSize;
    readonly long seed;
    long cachedEpoch = -1;
    long[] cachedOrder = [];

    public EpochSampler(int count, int batchSize, long seed)
    {
        if (count < 1) throw new ArgumentException("Cannot sample batches from an empty data set.", nameof(count));
        if (batchSize < 1) throw new ArgumentException("Batch size must be at least 1.", nameof(batchSize));
        this.count = count;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /// <summary>int64 [B]: the image indices of step <paramref name="step"/> (0-based).</summary>
    public Tensor Indices(long step)
    {
        var indices = new long[batchSize];
        long start = step * batchSize;
        for (int j = 0; j < batchSize; j++)
        {
            long position = start + j;
            indices[j] = Order(position / count)[position % count];
        }
        return torch.tensor(indices);
    }

    long[] Order(long epoch)
    {
        if (epoch == cachedEpoch) return cachedOrder;
        using var generator = new torch.Generator((ulong)DerivedSeed.Of(seed, "epoch", epoch));
        using var order = torch.randperm(count, generator: generator);
        cachedOrder = order.data<long>().ToArray();
        cachedEpoch = epoch;
        return cachedOrder;
    }
}
