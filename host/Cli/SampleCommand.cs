using IAR.Host.Distributed;
using IAR.Host.Recipes;
using IAR.Host.Runs;
using IAR.Host.Training;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Evaluation;
using IAR.Host.Native;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Cli;

/// <summary>
/// <c>iar sample</c>: images from a generator — a run folder's arm (its defaults reproduce the run's own sample grid), or
/// a generator checkpoint with its tokenizer checkpoint (safetensors or PyTorch .pt/.pth, + optional permutation or
/// IAR mapping). Writes grid.png, the images as PNGs and an ADM .npz, all streamed batch by batch. Under <c>mpirun</c> or
/// <c>srun</c> the ranks share the batches out (<see cref="ImageSampler.SampleBlocks"/>: each batch's images depend on the
/// seed and its index only) and rank 0 joins them (<see cref="AdmSampleParts"/>): any rank count writes the same files.
/// </summary>
public static class SampleCommand
{
    /// <summary>Files written into the output folder.</summary>
    public const string GridFile = "grid.png", ImagesFolder = "images", ArchiveFile = "samples.npz";

    /// <summary>Images shown in the grid when <c>--count</c> asks for many.</summary>
    const int MaxGridImages = 100;

    public static Command Build(ConsoleOutput ctx)
    {
        var run = new Option<string?>("--run") { Description = "A run folder (runs/NNN-name) to sample an arm of.", HelpName = "DIR" };
        var arm = new Option<string?>("--arm") { Description = "The arm of --run (needed when it has several).", HelpName = "NAME" };
        var seed = new Option<int?>("--seed") { Description = "Seed: picks the run's seed-N folder and the sampling stream (as the run's evaluation does). Default: the run's first seed, else 0.", HelpName = "N" };
        var generator = new Option<string?>("--generator") { Description = "Generator plugin preset, e.g. LlamaGen/GPT-B (without --run).", HelpName = "PLUGIN/PRESET" };
        var generatorCheckpoint = new Option<string?>("--generator-checkpoint") { Description = "Generator weights: safetensors or PyTorch .pt/.pth.", HelpName = "FILE" };
        var generatorOptions = new Option<string[]>("--generator-option") { Description = "Generator preset option (repeatable).", HelpName = "KEY=VALUE" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer plugin preset, e.g. LlamaGen/VQ-16 (without --run).", HelpName = "PLUGIN/PRESET" };
        var tokenizerCheckpoint = new Option<string?>("--tokenizer-checkpoint") { Description = "Tokenizer weights: safetensors or PyTorch .pt/.pth.", HelpName = "FILE" };
        var tokenizerOptions = new Option<string[]>("--tokenizer-option") { Description = "Tokenizer preset option (repeatable).", HelpName = "KEY=VALUE" };
        var permutation = new Option<string?>("--permutation") { Description = "Permutation the generator's vocabulary follows: permutation.safetensors or IAR's mapping-*.pt.", HelpName = "FILE" };
        var image = new Option<string>("--image") { Description = "Image shape (without --run).", HelpName = "CxHxW", DefaultValueFactory = _ => "3x256x256" };
        var classes = new Option<int>("--classes") { Description = "Number of classes the generator was trained with (without --run).", HelpName = "K", DefaultValueFactory = _ => 1000 };
        var labels = new Option<string?>("--labels") { Description = "Class labels, e.g. 207,360,387, or 'all'. Default: the first 10 classes (the run's grid).", HelpName = "LIST" };
        var perClass = new Option<int?>("--per-class") { Description = "Images per class (default: the run's evaluation.grid_per_class, else 8).", HelpName = "N" };
        var count = new Option<int?>("--count", "-n") { Description = "Total images, labels cycling through the classes (instead of --per-class), e.g. 50000 for FID.", HelpName = "N" };
        var randomLabels = new Option<bool>("--random-labels") { Description = "With --count: labels drawn uniformly from the classes (seeded by --seed) instead of cycling through them." };
        var cfg = new Option<double?>("--cfg-scale") { Description = "Classifier-free guidance scale (1 = off). Default: the run's sampling.cfg_scale.", HelpName = "S" };
        var schedule = new Option<string?>("--cfg-schedule") { Description = "constant | linear (default: the run's, else the generator's official one).", HelpName = "NAME" };
        var temperature = new Option<double?>("--temperature") { Description = "Softmax temperature.", HelpName = "T" };
        var topK = new Option<int?>("--top-k") { Description = "Keep the k most likely tokens (0 = all).", HelpName = "K" };
        var topP = new Option<double?>("--top-p") { Description = "Nucleus mass in (0, 1] (1 = all).", HelpName = "P" };
        var clusterAware = new Option<bool?>("--cluster-aware") { Description = "Cluster-aware sampling: draw the cluster, then the token within it (default: the run's sampling.cluster_aware). --temperature/--top-k/--top-p then act on the token.", HelpName = "true|false", Arity = ArgumentArity.ZeroOrOne };
        var clusterTemperature = new Option<double?>("--cluster-temperature") { Description = "Temperature of the cluster distribution (cluster-aware).", HelpName = "T" };
        var clusterTopK = new Option<int?>("--cluster-top-k") { Description = "Keep the k most likely clusters (cluster-aware; 0 = all).", HelpName = "K" };
        var clusterTopP = new Option<double?>("--cluster-top-p") { Description = "Nucleus mass over clusters (cluster-aware; 1 = all).", HelpName = "P" };
        var clusterSize = new Option<int?>("--cluster-size") { Description = "Without --run: codes per cluster of the balanced k-means over the tokenizer's codebook that cluster-aware sampling uses.", HelpName = "M" };
        var batch = new Option<int?>("--batch-size") { Description = "Images per batch (default: the run's evaluation.batch_size, else 64).", HelpName = "N" };
        var precision = new Option<string?>("--precision") { Description = "fp32 | bf16: the arithmetic of the generator's matmuls and attention (default: the run's training.precision, else fp32).", HelpName = "NAME" };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N.", DefaultValueFactory = _ => "auto" };
        var noImages = new Option<bool>("--no-images") { Description = "Write only the grid and the .npz, not one PNG per image." };
        var output = new Option<string>("--output", "-o") { Description = "Output folder.", HelpName = "DIR", Required = true };
        var plugins = CommonOptions.Plugins();
        var command = new Command("sample", "Sample images from a run's arm or from generator + tokenizer checkpoints (.safetensors or .pt/.pth).")
        {
            run, arm, seed, generator, generatorCheckpoint, generatorOptions, tokenizer, tokenizerCheckpoint, tokenizerOptions,
            permutation, image, classes, labels, perClass, count, randomLabels, cfg, schedule, temperature, topK, topP,
            clusterAware, clusterTemperature, clusterTopK, clusterTopP, clusterSize, batch, precision, device, noImages,
            output, plugins,
        };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var launch = DistributedLaunch.FromEnvironment();
            var deviceSpec = parse.GetValue(device)!;
            // One GPU per rank of a node unless the device names one (as iar run).
            var dev = DeviceSelector.Resolve(launch.Size > 1 && deviceSpec is "cuda" or "auto" && torch.cuda.is_available() ? $"cuda:{launch.LocalRank}" : deviceSpec);
            if (launch.LocalSize > 1) torch.set_num_threads(Math.Max(1, Environment.ProcessorCount / launch.LocalSize));
            SamplingModels models;
            if (parse.GetValue(run) is { } runDir)
            {
                if (parse.GetValue(generator) is not null || parse.GetValue(tokenizer) is not null)
                    throw new ConfigurationException("Give either --run DIR (with --arm) or --generator/--tokenizer with their checkpoints, not both.");
                models = SamplingModels.FromRun(runDir, parse.GetValue(arm), parse.GetValue(seed), parse.GetValue(plugins) ?? [], dev);
            }
            else
            {
                var g = parse.GetValue(generator) ?? throw new ConfigurationException("Give --run DIR, or --generator PLUGIN/PRESET with --generator-checkpoint and --tokenizer.");
                var t = parse.GetValue(tokenizer) ?? throw new ConfigurationException("--generator needs --tokenizer PLUGIN/PRESET (and --tokenizer-checkpoint) to decode its tokens.");
                models = SamplingModels.FromCheckpoints(
                    CommonOptions.ParseModel(g, "--generator", parse.GetValue(generatorOptions), parse.GetValue(generatorCheckpoint)),
                    CommonOptions.ParseModel(t, "--tokenizer", parse.GetValue(tokenizerOptions), parse.GetValue(tokenizerCheckpoint)),
                    parse.GetValue(permutation), CommonOptions.ParseImage(parse.GetValue(image)!), parse.GetValue(classes), parse.GetValue(plugins) ?? [], dev,
                    parse.GetValue(clusterSize));
            }
            if (parse.GetValue(run) is not null && parse.GetValue(clusterSize) is not null)
                throw new ConfigurationException("--cluster-size is for checkpoints; with --run, cluster-aware sampling uses the run's reference clustering (its top-level iar settings).");
            var s = models.Sampling;
            var spec = s with
            {
                CfgScale = parse.GetValue(cfg) ?? s.CfgScale, Temperature = parse.GetValue(temperature) ?? s.Temperature, TopK = parse.GetValue(topK) ?? s.TopK,
                TopP = parse.GetValue(topP) ?? s.TopP, CfgSchedule = parse.GetValue(schedule) is { } name ? ParseSchedule(name) : s.CfgSchedule,
                ClusterAware = parse.GetResult(clusterAware) is null ? s.ClusterAware : parse.GetValue(clusterAware) ?? true,
                ClusterTemperature = parse.GetValue(clusterTemperature) ?? s.ClusterTemperature, ClusterTopK = parse.GetValue(clusterTopK) ?? s.ClusterTopK,
                ClusterTopP = parse.GetValue(clusterTopP) ?? s.ClusterTopP,
            };
            var options = spec.ToOptions(spec.ClusterAware ? models.ClusterOfToken() : null);
            options.Validate();
            var request = new Request(
                ParseLabels(parse.GetValue(labels), models.NumClasses), parse.GetValue(perClass) ?? models.GridPerClass, parse.GetValue(count),
                parse.GetValue(randomLabels), parse.GetValue(seed) ?? models.Seed, parse.GetValue(batch) ?? models.BatchSize, !parse.GetValue(noImages), parse.GetValue(output)!,
                parse.GetValue(precision) is { } p ? ParsePrecision(p) : models.Precision);
            if (request.PerClass < 1) throw new ConfigurationException($"--per-class {request.PerClass} is invalid; at least 1 is accepted.");
            if (request.Count is < 1) throw new ConfigurationException($"--count {request.Count} is invalid; at least 1 is accepted.");
            if (request.BatchSize < 1) throw new ConfigurationException($"--batch-size {request.BatchSize} is invalid; at least 1 is accepted.");
            if (request.RandomLabels && request.Count is null) throw new ConfigurationException("--random-labels needs --count N (with --per-class every class gets N).");
            // Data parallel: this process is one rank of mpirun / srun (one process otherwise); rank 0 prints and joins.
            using var group = ProcessGroup.Start(launch, dev, CancellationToken.None);
            Execute(group.IsMain ? ctx : ConsoleOutput.ForWriters(TextWriter.Null, ctx.Error), models, options, request, group);
            group.Finish();
            return ExitCodes.Success;
        }));
        return command;
    }

    sealed record Request(long[] Classes, int PerClass, int? Count, bool RandomLabels, int Seed, int BatchSize, bool WriteImages, string Output, Precision Precision);

    static Precision ParsePrecision(string name) => name.ToLowerInvariant() switch
    {
        "fp32" => Precision.Fp32,
        "bf16" => Precision.Bf16,
        _ => throw new ConfigurationException($"--precision '{name}' is invalid; fp32 or bf16 is accepted."),
    };

    static void Execute(ConsoleOutput ctx, SamplingModels models, SamplingOptions options, Request request, ProcessGroup group)
    {
        // The grid layout of the run's evaluation: PerClass images of each class, class-major, one row per class.
        // With --count: that many images, labels cycling through the classes (balanced, as the evaluation samples), or
        // drawn uniformly (--random-labels). Every rank computes the same labels.
        using var labels = Labels(request);                                                    // [N]
        long total = labels.shape[0];
        int columns = request.Count is null ? request.PerClass : (int)Math.Min(10, total);
        long gridImages = request.Count is null ? total : Math.Min(total, MaxGridImages);

        var archivePath = Path.Combine(request.Output, ArchiveFile);
        var imagesFolder = Path.Combine(request.Output, ImagesFolder);
        var shape = models.Tokenizer.Info.Image;
        // One process streams into the archive; several write their blocks as parts that rank 0 joins in block order.
        var parts = group.IsDistributed ? new AdmSampleParts(archivePath, total, request.BatchSize, shape.Height, shape.Width) : null;
        if (group.IsMain)
        {
            Directory.CreateDirectory(request.Output);
            if (request.WriteImages) Directory.CreateDirectory(imagesFolder);
            parts?.Reset();
        }
        group.Barrier("the output folder");
        long blocks = ImageSampler.BlockCount(total, request.BatchSize);
        long mine = 0;   // this rank's images: blocks k ≡ rank (mod ranks)
        for (long k = group.Rank; k < blocks; k += group.Size) mine += Math.Min(request.BatchSize, total - k * request.BatchSize);
        var grid = new List<Tensor>();   // uint8 [b, H, W, 3] of the first gridImages images, in order
        void KeepForGrid(Tensor pixels, long start)
        {
            if (start >= gridImages) return;
            var kept = pixels.narrow(0, 0, Math.Min(pixels.shape[0], gridImages - start)).clone();
            kept.DetachFromDisposeScope();
            grid.Add(kept);
        }
        var clock = Stopwatch.StartNew();
        try
        {
            using (var archive = parts is null ? new AdmSampleWriter(archivePath, total, shape.Height, shape.Width) : null)
            {
                long done = 0;
                Progress(ctx, mine, report =>
                    ImageSampler.SampleBlocks(MixedPrecisionGenerator.Wrap(models.Generator, request.Precision), models.Tokenizer, labels, options,
                        GeneratorEvaluator.SamplingSeedOffset + request.Seed, request.BatchSize, group.Rank, group.Size, (block, images, blockLabels) =>
                        {
                            long start = block * request.BatchSize, b = images.shape[0];
                            using var pixels = AdmSampleArchive.ToNhwcRgbTensor(images);           // [b, H, W, 3]
                            if (archive is not null)
                            {
                                archive.AppendRgb(pixels, blockLabels);
                                KeepForGrid(pixels, start);
                            }
                            else parts!.Write(block, pixels, blockLabels);
                            if (request.WriteImages)
                                for (long i = 0; i < b; i++)
                                {
                                    using var one = images.narrow(0, i, 1);
                                    SampleGrid.Write(Path.Combine(imagesFolder, $"{start + i:D6}-class{blockLabels[i].item<long>()}.png"), one, 1, scale: 1, gap: 0);
                                }
                            done += b;
                            report(done);
                        }));
                archive?.Complete();
            }
            group.Barrier("every rank's sample blocks");
            if (!group.IsMain) return;
            long joined = 0;
            parts?.Join((pixels, _) =>
            {
                KeepForGrid(pixels, joined);
                joined += pixels.shape[0];
            });
            using var gridPixels = torch.cat(grid, 0);
            SampleGrid.WriteRgb(Path.Combine(request.Output, GridFile), gridPixels, columns);
        }
        finally
        {
            foreach (var t in grid) t.Dispose();
        }
        double seconds = clock.Elapsed.TotalSeconds;
        var table = new Table().AddColumns("", "value");
        table.AddRow("models", Markup.Escape(models.Described));
        table.AddRow("sampling", Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"cfg {options.CfgScale} ({options.Schedule?.ToString().ToLowerInvariant() ?? "official schedule"}), temperature {options.Temperature}, top-k {options.TopK}, top-p {options.TopP}, seed {request.Seed}, batch {request.BatchSize}, {request.Precision.ToString().ToLowerInvariant()}") +
            (options.Clusters is { } clusters ? $"; {clusters}" : "")));
        table.AddRow("images", string.Create(CultureInfo.InvariantCulture, $"{total} in {seconds:F1} s ({total / Math.Max(seconds, 1e-9):F1} images/s{(group.IsDistributed ? $", {group.Describe()}" : "")})"));
        table.AddRow("wrote", Markup.Escape(Path.Combine(request.Output, GridFile)));
        table.AddRow("wrote", Markup.Escape(archivePath));
        if (request.WriteImages) table.AddRow("wrote", Markup.Escape(imagesFolder + Path.DirectorySeparatorChar));
        ctx.Out.Write(table);
    }

    /// <summary>int64 [N]: PerClass of each class (class-major), or Count cycling through the classes or drawn uniformly from them.</summary>
    static Tensor Labels(Request request)
    {
        using var scope = torch.NewDisposeScope();
        var classes = torch.tensor(request.Classes, ScalarType.Int64);
        if (request.Count is not int n) return classes.repeat_interleave(request.PerClass).MoveToOuterDisposeScope();
        using var random = new torch.Generator((ulong)DerivedSeed.Of(request.Seed, "sample-labels"));
        var picks = request.RandomLabels
            ? torch.randint(0, request.Classes.Length, [n], ScalarType.Int64, generator: random)
            : torch.arange(n, dtype: ScalarType.Int64).remainder(request.Classes.Length);
        return classes.index_select(0, picks).MoveToOuterDisposeScope();
    }

    /// <summary>A live bar with images/s for a person at a terminal; a line every tenth otherwise.</summary>
    static void Progress(ConsoleOutput ctx, long total, Action<Action<long>> body)
    {
        var clock = Stopwatch.StartNew();
        if (ctx.IsInteractive)
        {
            ctx.Out.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(p =>
                {
                    var task = p.AddTask("sampling", maxValue: total);
                    body(done =>
                    {
                        task.Value = done;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"sampling {done}/{total} · {done / clock.Elapsed.TotalSeconds:F1} images/s");
                    });
                });
            return;
        }
        long nextLine = 0;
        body(done =>
        {
            if (done < nextLine && done < total) return;
            ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sampled {done}/{total} images · {done / clock.Elapsed.TotalSeconds:F1} images/s"));
            nextLine = done + Math.Max(1, total / 10);
        });
    }

    static long[] ParseLabels(string? text, int numClasses)
    {
        if (text is null) return Enumerable.Range(0, Math.Min(numClasses, 10)).Select(i => (long)i).ToArray();
        if (text == "all") return Enumerable.Range(0, numClasses).Select(i => (long)i).ToArray();
        var labels = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
            labels.Add(long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v < numClasses ? v
                : throw new ConfigurationException($"--labels '{part}' is invalid; class indices in 0…{numClasses - 1}, comma-separated, or 'all' are accepted."));
        return labels.ToArray();
    }

    static GuidanceSchedule ParseSchedule(string text) => text switch
    {
        "constant" => GuidanceSchedule.Constant,
        "linear" => GuidanceSchedule.Linear,
        _ => throw new ConfigurationException($"--cfg-schedule '{text}' is invalid; constant or linear is accepted."),
    };
}
