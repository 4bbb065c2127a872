using IAR.Host.Runs;
using IAR.Host.Iar;
using System.CommandLine;
using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Serialization;
using Spectre.Console;

namespace IAR.Host.Cli;

/// <summary>
/// <c>iar convert IN.pt -o OUT.safetensors</c>: a PyTorch checkpoint (read without running code) as a safetensors file,
/// for those who want files; every command also takes the .pt directly. An IAR <c>mapping-*.pt</c> becomes a
/// permutation file (<c>new_to_old</c>, <c>old_to_new</c>) that <c>iar.permutation</c> and <c>iar sample</c> read.
/// </summary>
public static class ConvertCommand
{
    public static Command Build(ConsoleOutput ctx)
    {
        var input = new Argument<string>("checkpoint") { Description = "A PyTorch checkpoint (.pt/.pth, torch.save since 1.6) or IAR mapping-*.pt." };
        var output = new Option<string>("--output", "-o") { Description = "The safetensors file to write.", HelpName = "FILE", Required = true };
        var entry = new Option<string?>("--entry")
        {
            Description = $"Dict entry holding the weights (default: the first of {string.Join(", ", TorchCheckpoint.WeightEntries)}, or the root when it is a bare state dict).",
            HelpName = "NAME",
        };
        var command = new Command("convert", "Convert a PyTorch .pt/.pth checkpoint (or IAR mapping) to safetensors without running code from it.")
        {
            input, output, entry,
        };
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            Execute(ctx, parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(entry));
            return ExitCodes.Success;
        }));
        return command;
    }

    static void Execute(ConsoleOutput ctx, string input, string output, string? entry)
    {
        if (!File.Exists(input)) throw new ConfigurationException($"Checkpoint '{input}' does not exist.");
        if (!TorchCheckpoint.IsTorchZip(input))
            throw new ConfigurationException($"{input} is not a PyTorch zip checkpoint (it does not start like a torch.save file); nothing to convert.");
        if (Path.GetFullPath(input) == Path.GetFullPath(output))
            throw new ConfigurationException($"-o {output} would overwrite the input; choose another file.");
        var table = new Table().AddColumns("", "value");
        table.AddRow("read", Markup.Escape(input));
        bool isMapping;
        using (var checkpoint = TorchCheckpoint.Open(input))
            isMapping = checkpoint.Root is TorchTensorRef;
        if (isMapping)
        {
            if (entry is not null) throw new ConfigurationException($"{input} is a single tensor (an IAR mapping); --entry does not apply.");
            var permutation = OfficialMapping.Read(input);
            permutation.Save(output, metadata: new Dictionary<string, string> { ["iar.source"] = Path.GetFileName(input) });
            table.AddRow("kind", "IAR mapping (old → new)");
            table.AddRow("codes", permutation.Count.ToString(CultureInfo.InvariantCulture));
            table.AddRow("permutation", permutation.Hash);
        }
        else
        {
            using var weights = CheckpointFile.Read(input, entry);
            // safetensors has no shared storages: a storage named by many keys is written once per key, so a small file
            // whose keys all view one storage would write gigabytes. The output is held to the reader's budget too.
            var outputBudget = LoadBudget.ForFile(input, new FileInfo(input).Length);
            outputBudget.Charge(weights.Tensors.Values.Sum(t => outputBudget.Product(t.NumberOfElements, t.ElementSize, "a tensor")),
                $"the safetensors output ({weights.Tensors.Count} tensors; a storage that several keys share is written once per key)");
            var metadata = new Dictionary<string, string>(weights.Metadata) { ["iar.source"] = Path.GetFileName(input) };
            SafeTensorsWriter.Write(output, weights.Tensors, metadata);
            long parameters = weights.Tensors.Values.Sum(t => t.NumberOfElements);
            table.AddRow("kind", Markup.Escape(weights.Described));
            table.AddRow("tensors", string.Create(CultureInfo.InvariantCulture, $"{weights.Tensors.Count} ({parameters:N0} elements)"));
            table.AddRow("dtypes", string.Join(", ", weights.Tensors.Values.GroupBy(t => t.dtype).Select(g => $"{g.Key} × {g.Count()}")));
            foreach (var key in weights.Metadata.Keys.Order(StringComparer.Ordinal)) table.AddRow("metadata", Markup.Escape(key));
        }
        table.AddRow("wrote", Markup.Escape(output));
        ctx.Out.Write(table);
    }
}
