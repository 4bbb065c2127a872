using System.CommandLine;

namespace IAR.Host.Cli;

/// <summary>Options shared by several commands.</summary>
public static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print stack traces of errors.",
        Recursive = true,
    };

    public static readonly Option<string?> LibTorch = new("--libtorch")
    {
        Description = $"Use the libtorch in DIR (e.g. a PyTorch install's torch/lib, with CUDA) instead of the bundled one; also env {Native.ExternalLibTorch.EnvironmentVariable}. Needs a build with -p:IarTorchBackend=external.",
        HelpName = "DIR",
        Recursive = true,
    };

    /// <summary><c>--plugins DIR</c>, repeatable: plugin folders added to the built-in plugins.</summary>
    public static Option<string[]> Plugins() => new("--plugins")
    {
        Description = "A plugin folder to add to the built-in plugins; repeat for several (default: the YAML's 'plugins:').",
        HelpName = "DIR",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary><c>--sweep KEY=V1,V2</c>, repeatable: arms from lists of values, as the YAML's <c>sweep.grid</c> (host/Experiments/ArmSweep.cs).</summary>
    public static Option<string[]> Sweep() => new("--sweep")
    {
        Description = "Sweep a key an arm may set over values (repeatable): every combination of the keys' values becomes arms " +
                      "(× each arm of the file), named by their values, e.g. --sweep iar.lambda=0.5,2 --sweep training.lr=[0.001, 0.0003].",
        HelpName = "KEY=V1,V2",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary><c>--zip</c>: the <c>--sweep</c> lists go together (the YAML's <c>sweep.zip</c>).</summary>
    public static Option<bool> Zip() => new("--zip") { Description = "Pair the --sweep lists value by value (equal lengths) instead of combining every value." };

    /// <summary>The sweep that <see cref="Sweep"/> and <see cref="Zip"/> asked for.</summary>
    public static IAR.Host.Experiments.CommandLineSweep SweepOf(ParseResult parse, Option<string[]> sweep, Option<bool> zip) =>
        new(parse.GetValue(sweep) ?? [], parse.GetValue(zip));

    /// <summary>An <c>--image CxHxW</c> value, e.g. 3x256x256.</summary>
    /// <exception cref="IAR.Abstractions.ConfigurationException">Not three positive sizes.</exception>
    public static IAR.Abstractions.ImageShape ParseImage(string text)
    {
        var parts = text.Split('x');
        if (parts.Length == 3 && parts.All(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0))
        {
            var v = parts.Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            return new IAR.Abstractions.ImageShape(v[0], v[1], v[2]);
        }
        throw new IAR.Abstractions.ConfigurationException($"--image '{text}' is invalid; CxHxW with positive sizes is accepted, e.g. 3x256x256.");
    }

    /// <summary><c>--generator/--tokenizer PLUGIN/PRESET</c> with its <c>-option KEY=VALUE</c>s and <c>-checkpoint FILE</c>.</summary>
    /// <exception cref="IAR.Abstractions.ConfigurationException">A malformed preset or option, or a checkpoint that does not exist.</exception>
    public static Recipes.ModelCheckpoint ParseModel(string text, string option, string[]? options, string? checkpoint)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0))
            throw new IAR.Abstractions.ConfigurationException($"{option} '{text}' is invalid; PLUGIN/PRESET is accepted, e.g. LlamaGen/GPT-B.");
        var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var o in options ?? [])
        {
            int equals = o.IndexOf('=');
            if (equals <= 0) throw new IAR.Abstractions.ConfigurationException($"{option}-option '{o}' is invalid; KEY=VALUE is accepted.");
            parsed[o[..equals]] = o[(equals + 1)..];
        }
        if (checkpoint is not null && !File.Exists(checkpoint)) throw new IAR.Abstractions.ConfigurationException($"{option}-checkpoint '{checkpoint}' does not exist.");
        return new Recipes.ModelCheckpoint(parts[0], parts[1], parsed, checkpoint);
    }
}
