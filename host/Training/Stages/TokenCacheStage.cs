using System.Diagnostics;
using IAR.Host.Data;
using IAR.Host.Experiments;

namespace IAR.Host.Training.Stages;

/// <summary>
/// Encodes the training and held-out images once with the tokenizer into <c>tokens/train.safetensors</c> and
/// <c>tokens/test.safetensors</c>, shared by every arm and seed. An existing cache is reused; a cache written by
/// another tokenizer or from other images is refused (not rebuilt): it can only exist if the tokenizer checkpoint
/// or the data changed under a run, and then the run's generator checkpoints are stale too, so the run must start
/// over (<c>--fresh</c>) rather than quietly mix tokenizers.
/// </summary>
public sealed class TokenCacheStage : IRunStage
{
    public const string Folder = "tokens";

    public string Name => "tokens";

    public void Run(RunContext context)
    {
        var spec = context.Experiment.Spec;
        var data = StageItems.DataOf(context);
        context.Items[StageItems.TrainTokens] = OpenOrWrite(context, "train", data.Train, spec.Data.Flip);
        context.Items[StageItems.HeldOutTokens] = OpenOrWrite(context, "test", data.Test, withFlips: false);
    }

    static TokenCache OpenOrWrite(RunContext context, string split, ImageDataset images, bool withFlips)
    {
        var tokenizer = StageItems.TokenizerOf(context);
        var hash = StageItems.TokenizerHashOf(context);
        var path = context.Run.File(Path.Combine(Folder, $"{split}.safetensors"));
        if (!File.Exists(path))
        {
            var watch = Stopwatch.StartNew();
            int lastTenth = 0;
            TokenCacheWriter.Write(path, tokenizer, hash, images, withFlips, context.Experiment.Spec.Tokenizer.Training.BatchSize,
                context.Device, context.Cancellation, (done, total) =>
                {
                    int tenth = (int)(10L * done / total);
                    if (tenth > lastTenth && tenth < 10) context.Log.FileOnly($"   {split}: {done}/{total} images encoded");
                    lastTenth = tenth;
                });
            context.Log.Info($"   {split}: encoded {images.Count} images{(withFlips ? " (and their mirror images)" : "")} in {watch.Elapsed.TotalSeconds:F1} s");
        }
        var cache = TokenCache.Open(path, hash, images.Fingerprint);
        context.Log.Info(
            $"   {split}: {cache.Count} images × {cache.Variants} × {cache.SequenceLength} tokens, V = {cache.VocabularySize}, " +
            $"{new FileInfo(path).Length / 1024.0:F0} KiB{(cache.IsMemoryMapped ? " (memory-mapped)" : "")}: {path}");
        return cache;
    }
}
