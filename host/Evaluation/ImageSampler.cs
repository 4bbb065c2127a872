using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Draws images from a generator and decodes them with its tokenizer in blocks of one batch: block k (samples
/// k·B … k·B + B − 1) is drawn from its own generator, seeded by <see cref="BlockSeed"/>(seed, k). The same seed, labels
/// and batch size give the same images, and a block's images do not depend on which blocks were drawn before it or in
/// which process, so ranks can deal the blocks out (<see cref="SampleBlocks"/>) and together give one process's images.
/// </summary>
public static class ImageSampler
{
    /// <summary><paramref name="count"/> labels cycling through the classes (0, 1, …, K−1, 0, …): int64 [count].</summary>
    public static Tensor BalancedLabels(int count, int numClasses) =>
        torch.arange(count, dtype: ScalarType.Int64).remainder(numClasses);

    /// <summary>Labels of a sample grid: <paramref name="perClass"/> of each of the first min(K, maxClasses) classes, class-major.</summary>
    public static Tensor GridLabels(int numClasses, int perClass, int maxClasses = 10) =>
        torch.arange(Math.Min(numClasses, maxClasses), dtype: ScalarType.Int64).repeat_interleave(perClass);

    /// <summary>Images for <paramref name="labels"/>, with the modules in eval mode and no gradients (their modes are restored).</summary>
    /// <param name="labels">int64 [N] in [0, NumClasses).</param>
    /// <param name="seed">Seed of the sampling random source.</param>
    /// <returns>float [N, C, H, W] in [-1, 1] with labels [N] (copies the caller owns).</returns>
    public static LabelledImages Sample(IGenerator generator, ITokenizer tokenizer, Tensor labels, SamplingOptions options,
        long seed, int batchSize)
    {
        var batches = new List<Tensor>();
        try
        {
            SampleBatches(generator, tokenizer, labels, options, seed, batchSize, (images, _) =>
            {
                var kept = images.detach().clone();
                kept.DetachFromDisposeScope();
                batches.Add(kept);
            });
            using var _ = torch.NewDisposeScope();
            var all = batches.Count == 0 ? torch.zeros(0, 1, 1, 1) : torch.cat(batches, 0);
            return new LabelledImages(all.MoveToOuterDisposeScope(), labels.to(ScalarType.Int64).cpu().clone().MoveToOuterDisposeScope());
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <summary>
    /// The same images as <see cref="Sample"/>, handed to <paramref name="each"/> one batch at a time (float [b, C, H, W]
    /// CPU images and int64 [b] labels, valid only during the call), so any number of images fits in one batch's memory.
    /// </summary>
    public static void SampleBatches(IGenerator generator, ITokenizer tokenizer, Tensor labels, SamplingOptions options,
        long seed, int batchSize, Action<Tensor, Tensor> each) =>
        SampleBlocks(generator, tokenizer, labels, options, seed, batchSize, rank: 0, ranks: 1, (_, images, blockLabels) => each(images, blockLabels));

    /// <summary>Blocks of <paramref name="blockSize"/> that <paramref name="count"/> samples make (the last may be shorter).</summary>
    public static long BlockCount(long count, int blockSize) => (count + blockSize - 1) / blockSize;

    /// <summary>The seed of block <paramref name="block"/>'s generator: block 0 uses <paramref name="seed"/> itself, the others are a golden-ratio stride apart.</summary>
    public static ulong BlockSeed(long seed, long block) => unchecked((ulong)seed + (ulong)block * 0x9E3779B97F4A7C15UL);

    /// <summary>
    /// The blocks of <see cref="SampleBatches"/> whose index k has k mod <paramref name="ranks"/> = <paramref name="rank"/>
    /// (dealt round-robin, so the short last block costs one rank at most one block's imbalance), in order; each is
    /// handed to <paramref name="each"/> with its index, as the same images whichever rank draws it.
    /// </summary>
    public static void SampleBlocks(IGenerator generator, ITokenizer tokenizer, Tensor labels, SamplingOptions options,
        long seed, int blockSize, int rank, int ranks, Action<long, Tensor, Tensor> each)
    {
        if (ranks < 1 || rank < 0 || rank >= ranks) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must lie in 0 … {ranks - 1}");
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "block (batch) size must be ≥ 1");
        options.Validate();
        if (options.Clusters is { } clusters)
        {
            var info = generator.Info;
            if (!info.SupportsClusterSampling)
                throw new ConfigurationException(
                    $"generator {info.Plugin}/{info.Preset} does not implement cluster-aware sampling (GeneratorInfo.SupportsClusterSampling); set sampling.cluster_aware: false.");
            if (clusters.VocabularySize != info.VocabularySize)
                throw new ConfigurationException(
                    $"the cluster map of cluster-aware sampling covers {clusters.VocabularySize} tokens but generator {info.Plugin}/{info.Preset} has V = {info.VocabularySize}.");
        }
        using var modes = new EvalModeScope(generator.Module, tokenizer.Module);
        using var noGrad = torch.no_grad();
        var device = ParameterDevice(generator.Module);
        long n = labels.shape[0];
        for (long block = rank; block < BlockCount(n, blockSize); block += ranks)
        {
            using var scope = torch.NewDisposeScope();
            using var random = new torch.Generator(BlockSeed(seed, block));
            long start = block * blockSize;
            var cpuLabels = labels.narrow(0, start, Math.Min(blockSize, n - start)).to(ScalarType.Int64).cpu();   // [b]
            var tokens = generator.Generate(cpuLabels.to(device), options, random);                               // [b, L]
            var images = tokenizer.Decode(tokens).to(ScalarType.Float32).cpu();                                   // [b, C, H, W]
            each(block, images, cpuLabels);
        }
    }

    static Device ParameterDevice(nn.Module module) => module.parameters().FirstOrDefault()?.device ?? torch.CPU;
}
