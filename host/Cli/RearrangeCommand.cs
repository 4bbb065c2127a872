using IAR.Host.Configuration;
using IAR.Host.Runs;
using System.CommandLine;
using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Host.Plugins;
using IAR.Host.Serialization;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Cli;

/// <summary>
/// <c>iar rearrange</c>: IAR's codebook rearrangement as a standalone step. Takes a plugin tokenizer (preset and
/// checkpoint) or any checkpoint file (safetensors, or a PyTorch .pt/.pth read without running code) plus the name of its
/// codebook tensor (e.g. an official LlamaGen VQ checkpoint, <c>--key quantize.embedding.weight</c>), clusters the codebook and writes the rearranged
/// checkpoint and the permutation (int64 <c>new_to_old</c>, <c>old_to_new</c>, <c>cluster_sizes</c>).
/// </summary>
public static class RearrangeCommand
{
    /// <summary>The permutation file written into the output folder.</summary>
    public const string PermutationFile = "permutation.safetensors";

    /// <summary>The rearranged checkpoint written for a plugin tokenizer.</summary>
    public const string TokenizerFile = "tokenizer.safetensors";

    public static Command Build(ConsoleOutput ctx)
    {
        var file = new Argument<string?>("file")
        {
            Description = "A checkpoint (safetensors or PyTorch .pt/.pth) holding the codebook (give --key); or omit it and give --tokenizer.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var keys = new Option<string[]>("--key")
        {
            Description = "Name of the codebook tensor [V, D] in FILE; repeat it to permute more tensors along their first axis (V rows).",
            HelpName = "NAME",
        };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "A plugin tokenizer, e.g. LlamaGen/VQ-16.", HelpName = "PLUGIN/PRESET" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Weights of the plugin tokenizer (safetensors or PyTorch .pt/.pth).", HelpName = "FILE" };
        var options = new Option<string[]>("--option") { Description = "Preset option override of the plugin tokenizer (repeatable).", HelpName = "KEY=VALUE" };
        var image = new Option<string>("--image")
        {
            Description = "Image shape the plugin tokenizer is built for (does not affect the codebook).",
            HelpName = "CxHxW",
            DefaultValueFactory = _ => "3x256x256",
        };
        var clusters = new Option<int?>("--clusters", "-n") { Description = "n, the number of clusters (must divide V).", HelpName = "N" };
        var clusterSize = new Option<int?>("--cluster-size", "-m") { Description = "m, codes per cluster (must divide V; official 128).", HelpName = "M" };
        var method = new Option<string>("--method")
        {
            Description = "balanced-kmeans | random | kmeans (unbalanced) | none (identity).",
            DefaultValueFactory = _ => "balanced-kmeans",
        };
        var assignment = new Option<string>("--assignment")
        {
            Description = "Balanced assignment: optimal (minimum cost) | greedy (official).",
            DefaultValueFactory = _ => "optimal",
        };
        var init = new Option<string>("--init")
        {
            Description = "Initial centres: plus-plus (k-means++) | random (official).",
            DefaultValueFactory = _ => "plus-plus",
        };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial centres / random split.", DefaultValueFactory = _ => 0 };
        var maxIterations = new Option<int>("--max-iterations") { Description = "k-means iteration limit.", DefaultValueFactory = _ => 100 };
        var noNormalize = new Option<bool>("--no-normalize") { Description = "Cluster the raw codebook rows instead of the L2-normalised ones." };
        var noInnerOrder = new Option<bool>("--no-inner-order") { Description = "Keep the original order inside each cluster." };
        var tokens = new Option<string?>("--tokens")
        {
            Description = "A token cache of this codebook (a run's tokens/train.safetensors): codes absent from it are dead; prints live codes per cluster.",
            HelpName = "FILE",
        };
        var deadCodes = new Option<string>("--dead-codes")
        {
            Description = "With --tokens: apart (live codes clustered alone, dead codes in the last clusters) | mixed.",
            DefaultValueFactory = _ => "apart",
        };
        var output = new Option<string>("--output", "-o") { Description = "Output folder.", HelpName = "DIR", Required = true };
        var plugins = CommonOptions.Plugins();
        var command = new Command("rearrange", "Cluster a codebook (balanced k-means) and write the rearranged checkpoint and the permutation.")
        {
            file, keys, tokenizer, checkpoint, options, image, clusters, clusterSize, method, assignment, init, seed,
            maxIterations, noNormalize, noInnerOrder, tokens, deadCodes, output, plugins,
        };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var request = new Request(
                parse.GetValue(file), parse.GetValue(keys) ?? [], parse.GetValue(tokenizer), parse.GetValue(checkpoint),
                parse.GetValue(options) ?? [], parse.GetValue(image)!, parse.GetValue(output)!, parse.GetValue(plugins), parse.GetValue(tokens));
            var spec = new IarSpec
            {
                Enabled = true,
                ClusterSize = parse.GetValue(clusterSize),
                Clusters = parse.GetValue(clusters),
                Clustering = ParseEnum<ClusteringMethod>(parse.GetValue(method)!, "--method"),
                Assignment = ParseEnum<BalancedAssignment>(parse.GetValue(assignment)!, "--assignment"),
                Initialisation = ParseEnum<KMeansInitialisation>(parse.GetValue(init)!, "--init"),
                MaxIterations = parse.GetValue(maxIterations),
                Normalize = !parse.GetValue(noNormalize),
                InnerOrder = !parse.GetValue(noInnerOrder),
                DeadCodes = ParseEnum<DeadCodeTreatment>(parse.GetValue(deadCodes)!, "--dead-codes"),
            };
            if (spec.MaxIterations < 1)
                throw new ConfigurationException($"--max-iterations = {spec.MaxIterations} is invalid; at least 1 is accepted.");
            Execute(ctx, request, spec, parse.GetValue(seed));
            return ExitCodes.Success;
        }));
        return command;
    }

    sealed record Request(
        string? File, string[] Keys, string? Tokenizer, string? Checkpoint, string[] Options, string Image, string Output, string[]? Plugins,
        string? Tokens);

    static void Execute(ConsoleOutput ctx, Request request, IarSpec spec, ulong seed)
    {
        if ((request.File is null) == (request.Tokenizer is null))
            throw new ConfigurationException("Give either a checkpoint FILE with --key NAME, or --tokenizer PLUGIN/PRESET (with --checkpoint FILE); not both, not neither.");
        Directory.CreateDirectory(request.Output);
        var written = new List<string>();
        RearrangementPlan plan;
        string described;
        using (var scope = torch.NewDisposeScope())
        {
            if (request.File is { } path)
            {
                var (file, codebook) = OpenCodebookFile(path, request.Keys);
                using var _ = file;
                described = $"{path} : {request.Keys[0]} [{string.Join(" x ", codebook.shape)}]";
                plan = Plan(spec, codebook, seed, $"{path}:{request.Keys[0]}", request.Tokens);
                // A PyTorch input is written out as safetensors under the same stem.
                var target = Path.Combine(request.Output, Path.ChangeExtension(Path.GetFileName(path), ".safetensors"));
                if (Path.GetFullPath(target) == Path.GetFullPath(path))
                    throw new ConfigurationException($"-o {request.Output} would overwrite the input {path}; choose another output folder.");
                WriteRearrangedFile(file, request.Keys, plan.Permutation, target);
                written.Add(target);
            }
            else
            {
                var tok = CreateTokenizer(request);
                using var codebook = tok.Codebook;
                described = $"{tok.Info.Plugin}/{tok.Info.Preset} codebook [{string.Join(" x ", codebook.shape)}]" +
                            (request.Checkpoint is null ? " (fresh weights: no --checkpoint)" : $" from {request.Checkpoint}");
                plan = Plan(spec, codebook, seed, $"{tok.Info.Plugin}/{tok.Info.Preset} codebook", request.Tokens);
                var target = Path.Combine(request.Output, TokenizerFile);
                new RearrangedTokenizer(tok, plan.Permutation).SaveCheckpoint(target, new Dictionary<string, string>
                {
                    ["iar.tokenizer"] = $"{tok.Info.Plugin}/{tok.Info.Preset}",
                });
                written.Add(target);
            }
        }
        var permutationPath = Path.Combine(request.Output, PermutationFile);
        plan.Save(permutationPath);
        written.Add(permutationPath);
        Print(ctx, described, plan, written);
    }

    static RearrangementPlan Plan(IarSpec spec, Tensor codebook, ulong seed, string source, string? tokens)
    {
        if (codebook.dim() != 2)
            throw new ConfigurationException($"{source} is [{string.Join(", ", codebook.shape)}], not a [V, D] codebook.");
        // Check the sizes here so that the message names the command-line options.
        int count = checked((int)codebook.shape[0]);
        ClusterSizes.Resolve(count, spec.ClusterSize, spec.Clusters, "--cluster-size", "--clusters");
        var live = tokens is null ? null : LiveCodes.OfCacheFile(tokens, count);
        return CodebookRearrangement.Plan(spec, codebook, seed, source, live);
    }

    static (CheckpointTensors File, Tensor Codebook) OpenCodebookFile(string path, string[] keys)
    {
        if (keys.Length == 0)
            throw new ConfigurationException($"Name the codebook tensor of {path} with --key (e.g. --key quantize.embedding.weight).");
        if (!File.Exists(path)) throw new ConfigurationException($"Checkpoint '{path}' does not exist.");
        var file = CheckpointFile.Read(path);
        var recorded = CodebookPermutation.RecordedHash(file.Metadata);
        if (recorded != CodebookPermutation.IdentityHash)
            throw new ConfigurationException($"{path} is already rearranged (iar.permutation = {recorded}); rearrange the original checkpoint instead.");
        foreach (var key in keys)
            if (!file.Tensors.ContainsKey(key))
                throw new ConfigurationException(
                    $"{path} has no tensor '{key}'; tensors with 2 or more axes: {string.Join(", ", file.Tensors.Where(e => e.Value.dim() >= 2).Select(e => e.Key).Order(StringComparer.Ordinal).Take(12))}.");
        var codebook = file.Tensors[keys[0]];
        if (codebook.dim() != 2)
            throw new ConfigurationException($"--key {keys[0]} is [{string.Join(", ", codebook.shape)}] in {path}, not a [V, D] codebook.");
        foreach (var key in keys.Skip(1))
        {
            var shape = file.Tensors[key].shape;
            if (shape.Length == 0 || shape[0] != codebook.shape[0])
                throw new ConfigurationException($"--key {key} is [{string.Join(", ", shape)}] in {path}; its first axis must have the codebook's {codebook.shape[0]} rows.");
        }
        return (file, codebook);
    }

    /// <summary>Every tensor and the metadata of the input, with the named tensors' rows permuted and iar.permutation added.</summary>
    static void WriteRearrangedFile(CheckpointTensors file, string[] keys, CodebookPermutation permutation, string target)
    {
        var tensors = new Dictionary<string, Tensor>(file.Tensors, StringComparer.Ordinal);
        foreach (var key in keys.Distinct(StringComparer.Ordinal)) tensors[key] = permutation.Rearrange(tensors[key]);
        var metadata = new Dictionary<string, string>(file.Metadata)
        {
            [CodebookPermutation.MetadataKey] = permutation.Hash,
            ["iar.rearranged_keys"] = string.Join(",", keys.Distinct(StringComparer.Ordinal)),
        };
        SafeTensorsWriter.Write(target, tensors, metadata);
    }

    static ITokenizer CreateTokenizer(Request request)
    {
        var parts = request.Tokenizer!.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0))
            throw new ConfigurationException($"--tokenizer '{request.Tokenizer}' is invalid; PLUGIN/PRESET is accepted, e.g. LlamaGen/VQ-16.");
        var catalog = PluginCatalog.ForCommand(request.Plugins);
        var factory = catalog.TokenizerFactory(parts[0], parts[1]);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in request.Options)
        {
            int equals = option.IndexOf('=');
            if (equals <= 0) throw new ConfigurationException($"--option '{option}' is invalid; KEY=VALUE is accepted.");
            options[option[..equals]] = option[(equals + 1)..];
        }
        var tok = factory.Create(new TokenizerRequest(parts[1], options, CommonOptions.ParseImage(request.Image)));
        if (request.Checkpoint is { } checkpoint)
        {
            if (!File.Exists(checkpoint)) throw new ConfigurationException($"--checkpoint '{checkpoint}' does not exist.");
            var metadata = StateDict.Load(tok.Module, checkpoint, request.Tokenizer);
            var recorded = CodebookPermutation.RecordedHash(metadata);
            if (recorded != CodebookPermutation.IdentityHash)
                throw new ConfigurationException($"{checkpoint} is already rearranged (iar.permutation = {recorded}); rearrange the original checkpoint instead.");
        }
        return tok;
    }

    static T ParseEnum<T>(string text, string option) where T : struct, Enum =>
        (T)PresetOptions.Parse(text, typeof(T), option)!;

    static void Print(ConsoleOutput ctx, string described, RearrangementPlan plan, IReadOnlyList<string> written)
    {
        var s = plan.Stats;
        var sizes = plan.Layout.Sizes;
        var table = new Table().AddColumns("", "value");
        table.AddRow("codebook", Markup.Escape(described));
        table.AddRow("method", SpecSchema.EnumValue(s.Method));
        table.AddRow("clusters", Markup.Escape(plan.Layout.IsUniform
            ? $"{plan.Layout.Count} of exactly {plan.Layout.UniformSize} codes"
            : $"{plan.Layout.Count}, sizes {sizes.Min()}–{sizes.Max()} (median {sizes.Order().ElementAt(sizes.Count / 2)})"));
        table.AddRow("iterations", s.Iterations == 0 ? "-" : $"{s.Iterations}{(s.Converged ? " (converged)" : " (limit reached)")}");
        table.AddRow("within-cluster error", Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{s.ErrorBefore:F3} before (contiguous blocks of the original order) → {s.ErrorAfter:F3} after")));
        table.AddRow("neighbour distance in block", string.Create(CultureInfo.InvariantCulture,
            $"{s.AdjacentBefore:F4} before inner order → {s.AdjacentAfter:F4} after"));
        if (s.Health is { } health) table.AddRow("cluster health", Markup.Escape(health.ToString()));
        table.AddRow("time", string.Create(CultureInfo.InvariantCulture,
            $"{s.ClusteringTime.TotalSeconds:F3} s clustering, {s.TotalTime.TotalSeconds:F3} s total"));
        table.AddRow("permutation", plan.Permutation.Hash);
        foreach (var path in written) table.AddRow("wrote", Markup.Escape(path));
        ctx.Out.Write(table);
    }
}
