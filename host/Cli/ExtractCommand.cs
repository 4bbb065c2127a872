using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Native;
using IAR.Host.Plugins;
using IAR.Host.Recipes;
using IAR.Host.Runs;
using IAR.Host.Serialization;
using Spectre.Console;
using TorchSharp;

namespace IAR.Host.Cli;

/// <summary>
/// <c>iar extract</c>: an image folder's codes in LlamaGen's layout (<c>{output}/imagenet{size}_codes/{i}.npy</c>
/// (1, A, L) and <c>…_labels/{i}.npy</c>), as extract_codes_c2i.py writes them, with a run's tokenizer or a plugin preset
/// and checkpoint; so codes made here train in LlamaGen and <c>data.source: llamagen-codes</c> trains on either tool's.
/// </summary>
public static class ExtractCommand
{
    public static Command Build(ConsoleOutput ctx)
    {
        var images = new Option<string>("--images") { Description = "An image folder: one sub-folder of PNG/JPEG images per class (as LlamaGen's --data-path, e.g. imagenet/train).", HelpName = "DIR", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The code path (LlamaGen's --code-path): imagenet<size>_codes/ and imagenet<size>_labels/ are written in it.", HelpName = "DIR", Required = true };
        var run = new Option<string?>("--run") { Description = "A run folder whose tokenizer encodes: its tokenizer.safetensors or the tokenizer.checkpoint it loaded (its data.image_size and data.channels unless given).", HelpName = "DIR" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer plugin preset, e.g. LlamaGen/VQ-16 (without --run).", HelpName = "PLUGIN/PRESET" };
        var tokenizerCheckpoint = new Option<string?>("--tokenizer-checkpoint") { Description = "Tokenizer weights: safetensors or PyTorch .pt/.pth (with --tokenizer).", HelpName = "FILE" };
        var tokenizerOptions = new Option<string[]>("--tokenizer-option") { Description = "Tokenizer preset option (repeatable).", HelpName = "KEY=VALUE" };
        var imageSize = new Option<int?>("--image-size") { Description = "Side of the encoded images (LlamaGen's --image-size; default: the run's data.image_size, else 256).", HelpName = "N" };
        var channels = new Option<int?>("--channels") { Description = "1 or 3 (default: the run's data.channels, else 3).", HelpName = "C" };
        var tenCrop = new Option<bool>("--ten-crop") { Description = "Ten crops per image (A = 10) instead of the image and its mirror (A = 2)." };
        var cropRange = new Option<double?>("--crop-range") { Description = "With --ten-crop: the crops are cut from the image brought to int(size × this) (default 1.1, as extract_codes_c2i.py).", HelpName = "R" };
        var batch = new Option<int>("--batch-size") { Description = "Images encoded per batch.", HelpName = "N", DefaultValueFactory = _ => 64 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N.", DefaultValueFactory = _ => "auto" };
        var plugins = CommonOptions.Plugins();
        var command = new Command("extract", "Encode an image folder into LlamaGen's extracted-code layout (flip or ten-crop), for LlamaGen's train_c2i.py or data.source: llamagen-codes.")
        {
            images, output, run, tokenizer, tokenizerCheckpoint, tokenizerOptions, imageSize, channels, tenCrop, cropRange, batch, device, plugins,
        };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var augmentation = parse.GetValue(tenCrop) ? LlamaGenAugmentation.TenCrop : LlamaGenAugmentation.Flip;
            if (augmentation == LlamaGenAugmentation.Flip && parse.GetValue(cropRange) is double given)
                throw new ConfigurationException($"--crop-range {given.ToString(CultureInfo.InvariantCulture)} applies to --ten-crop only; flip extraction encodes the whole image.");
            double range = parse.GetValue(cropRange) ?? 1.1;
            if (augmentation == LlamaGenAugmentation.TenCrop && range < 1)
                throw new ConfigurationException($"--crop-range {range.ToString(CultureInfo.InvariantCulture)} is invalid; at least 1 is accepted (the crops are cut from a larger image).");
            if (parse.GetValue(batch) < 1) throw new ConfigurationException($"--batch-size {parse.GetValue(batch)} is invalid; at least 1 is accepted.");
            var folders = parse.GetValue(plugins) ?? [];
            var (model, described) = parse.GetValue(run) is { } runDir
                ? parse.GetValue(tokenizer) is null ? FromRun(runDir, folders, parse.GetValue(imageSize), parse.GetValue(channels))
                    : throw new ConfigurationException("Give either --run DIR or --tokenizer PLUGIN/PRESET with --tokenizer-checkpoint, not both.")
                : FromPreset(CommonOptions.ParseModel(parse.GetValue(tokenizer) ?? throw new ConfigurationException("Give --run DIR, or --tokenizer PLUGIN/PRESET with --tokenizer-checkpoint."),
                    "--tokenizer", parse.GetValue(tokenizerOptions), parse.GetValue(tokenizerCheckpoint)), folders,
                    new ImageShape(parse.GetValue(channels) ?? 3, parse.GetValue(imageSize) ?? 256, parse.GetValue(imageSize) ?? 256));
            var dev = DeviceSelector.Resolve(parse.GetValue(device)!);
            model.Module.to(dev);
            var shape = model.Info.Image;
            if (shape.Height != shape.Width) throw new ConfigurationException($"{described} encodes {shape} images; extraction accepts tokenizers of square images only (LlamaGen's codes are of square crops).");
            int inputSize = augmentation == LlamaGenAugmentation.TenCrop ? LlamaGenCodeExtraction.CropSize(shape.Height, range) : shape.Height;
            using var data = ImageFolderDataset.Open(parse.GetValue(images)!, shape.Channels, inputSize);
            var target = LlamaGenCodeFolders.At(parse.GetValue(output)!, shape.Height);
            if (target.ForeignFile(data.Count) is { } foreign)
                throw new ConfigurationException(
                    $"-o {parse.GetValue(output)} already holds {foreign}, which is not one of this extraction's {data.Count} images; an empty code path (or one this extraction wrote) is accepted.");
            var clock = Stopwatch.StartNew();
            long nextLine = 0;
            LlamaGenCodeExtraction.Write(target, model, data, augmentation, parse.GetValue(batch), dev, progress: (done, total) =>
            {
                if (done < nextLine && done < total) return;
                ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"encoded {done}/{total} images · {done / clock.Elapsed.TotalSeconds:F1} images/s"));
                nextLine = done + Math.Max(1, total / 10);
            });
            ctx.Out.WriteLine($"wrote {data.Count} × (1, {LlamaGenCodeExtraction.Variants(augmentation)}, {model.Info.Layout.SequenceLength}) codes of {described} " +
                              $"({augmentation.ToString().ToLowerInvariant()}) to {target.Codes} and labels to {target.Labels}");
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The run's tokenizer (plugin, preset and options of its config) with its trained weights.</summary>
    static (ITokenizer Tokenizer, string Described) FromRun(string runDirectory, IReadOnlyList<string> pluginFolders, int? imageSize, int? channels)
    {
        var config = Path.Combine(runDirectory, RunLayout.ConfigFile);
        if (!File.Exists(config)) throw new ConfigurationException($"{runDirectory} is not a run folder: it has no {RunLayout.ConfigFile}.");
        var spec = ExperimentLoader.Load(config).Spec;
        var image = new ImageShape(channels ?? spec.Data.Channels, imageSize ?? spec.Data.ImageSize, imageSize ?? spec.Data.ImageSize);
        var (model, weights) = ArmModels.RunTokenizer(runDirectory, spec, PluginCatalog.ForCommand(pluginFolders, spec.Plugins), image);
        return (model, $"{spec.Tokenizer.Plugin}/{spec.Tokenizer.Preset} ({weights})");
    }

    static (ITokenizer Tokenizer, string Described) FromPreset(ModelCheckpoint t, IReadOnlyList<string> pluginFolders, ImageShape image)
    {
        if (t.Checkpoint is null)
            throw new ConfigurationException("--tokenizer needs --tokenizer-checkpoint FILE: codes of untrained weights mean nothing.");
        var model = PluginCatalog.ForCommand(pluginFolders, null).TokenizerFactory(t.Plugin, t.Preset).Create(new TokenizerRequest(t.Preset, t.Options, image));
        StateDict.Load(model.Module, t.Checkpoint, $"tokenizer {t.Plugin}/{t.Preset}");
        return (model, $"{t.Plugin}/{t.Preset} ({t.Checkpoint})");
    }
}
