using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using TorchSharp;

namespace IAR.Host.Training.Stages;

/// <summary>
/// Builds the tokenizer through its plugin and either loads <c>tokenizer.checkpoint</c> or trains it with
/// <c>tokenizer.training</c> and the plugin's loss terms (checkpoints in <c>tokenizer/</c>, the result in
/// <c>tokenizer.safetensors</c>; a finished tokenizer is loaded, an unfinished one resumed). It then reports the
/// held-out reconstruction PSNR and codebook usage.
/// </summary>
public sealed class TokenizerStage : IRunStage
{
    public const string WeightsFile = "tokenizer.safetensors";
    public const string Folder = "tokenizer";

    /// <summary>Held-out images the quality report encodes and decodes (evenly spaced).</summary>
    public const int QualityImages = 2000;

    public string Name => "tokenizer";

    public void Run(RunContext context)
    {
        var spec = context.Experiment.Spec;
        var data = StageItems.DataOf(context);
        var t = spec.Tokenizer;
        var factory = context.Catalog.TokenizerFactory(t.Plugin, t.Preset);
        torch.manual_seed(spec.Seed);
        var tokenizer = factory.Create(new TokenizerRequest(t.Preset, t.Options, data.Train.Shape));
        var label = $"tokenizer {t.Plugin}/{t.Preset}";
        if (tokenizer.Info.Image != data.Train.Shape)
            throw new ConfigurationException(
                $"{label} was built for {tokenizer.Info.Image} images but the data gives {data.Train.Shape}; set data.image_size and data.channels to what it accepts.");
        tokenizer.Module.to(context.Device);

        if (t.Checkpoint is not null)
        {
            StateDict.Load(tokenizer.Module, t.Checkpoint, label);
            context.Log.Info($"   loaded {t.Checkpoint}");
        }
        else
        {
            var trainer = new Trainer(new TrainerSettings
            {
                Training = t.Training,
                Seed = spec.Seed,
                Folder = context.Run.File(Folder),
                WeightsFile = context.Run.File(WeightsFile),
                Config = TrainingConfigText.ForTokenizer(spec, data.Train.Fingerprint),
                Tags = new Dictionary<string, object> { ["stage"] = "tokenizer", ["seed"] = spec.Seed },
                Label = label,
                Device = context.Device,
                Metrics = context.Metrics,
                Log = context.Log,
                Cancellation = context.Cancellation,
            });
            trainer.Run(new TokenizerObjective(tokenizer, data.Train, spec.Data.Flip, context.Device));
        }
        tokenizer.Module.eval();
        var hash = ModelFingerprint.Of(tokenizer);
        context.Items[StageItems.Tokenizer] = tokenizer;
        context.Items[StageItems.TokenizerHash] = hash;

        var quality = TokenizerQuality.Measure(tokenizer, data.Test, QualityImages, t.Training.BatchSize, context.Device);
        context.Log.Info(
            $"   {label} ({hash}): held-out PSNR {quality.Psnr:F2} dB on {quality.Images} images, " +
            $"codebook usage {quality.CodebookUsage:P1} ({quality.UsedCodes} of {quality.VocabularySize})");
        context.Metrics.RemoveWhere(r => r.TryGetProperty("stage", out var s) && s.GetString() == "tokenizer" && r.TryGetProperty("psnr", out _));
        context.Metrics.Append(new Dictionary<string, object?>
        {
            ["stage"] = "tokenizer", ["seed"] = spec.Seed, ["step"] = t.Checkpoint is null ? t.Training.Steps : 0,
            ["psnr"] = quality.Psnr, ["codebook_usage"] = quality.CodebookUsage, ["used_codes"] = quality.UsedCodes,
        });
    }
}
