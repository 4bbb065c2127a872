using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Draws images from a generator and decodes them with its tokenizer, in batches, from one seeded random source:
/// the same seed, labels and batch size give the same images.
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
        long seed, int batchSize, Action<Tensor, Tensor> each)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be ≥ 1");
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
        using var random = new torch.Generator(unchecked((ulong)seed));
        using var modes = new EvalModeScope(generator.Module, tokenizer.Module);
        using var noGrad = torch.no_grad();
        var device = ParameterDevice(generator.Module);
        long n = labels.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var cpuLabels = labels.narrow(0, start, Math.Min(batchSize, n - start)).to(ScalarType.Int64).cpu();   // [b]
            var tokens = generator.Generate(cpuLabels.to(device), options, random);                               // [b, L]
            var images = tokenizer.Decode(tokens).to(ScalarType.Float32).cpu();                                   // [b, C, H, W]
            each(images, cpuLabels);
        }
    }

    static Device ParameterDevice(nn.Module module) => module.parameters().FirstOrDefault()?.device ?? torch.CPU;
}
