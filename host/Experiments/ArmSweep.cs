using System.Text.RegularExpressions;
using IAR.Host.Configuration;
using YamlDotNet.RepresentationModel;

namespace IAR.Host.Experiments;

/// <summary>
/// <c>sweep:</c> — arms generated from lists of values instead of written out one by one:
/// <code>
/// sweep:
///   grid: {iar.lambda: [0.5, 2], training.lr: [0.001, 0.0003]}   # every combination (first key slowest)
///   zip: {iar.cluster_size: [16, 32], iar.clusters: [null, null]} # the i-th values together; equal lengths
///   arms: [iar]                                                    # the explicit arms it multiplies (default: all)
/// </code>
/// The points are grid × zip. Each explicit arm it applies to becomes one arm per point, <c>&lt;arm&gt;_&lt;point&gt;</c>
/// (the point's values set after the arm's own); without explicit arms the points alone are the arms, from the base
/// settings. A point is named by its values, <c>lambda-0.5_lr-0.001</c> (a key by its last segment unless two swept
/// keys share it). Each swept key is checked against the schema once; each value is bound where it is written, so a
/// wrong value gets the binder's error at its line.
/// </summary>
public static class ArmSweep
{
    public const string Key = "sweep";

    static readonly string[] Parts = ["grid", "zip", "arms"];

    /// <summary>One key's values, as written under <c>sweep.grid</c> or <c>sweep.zip</c>.</summary>
    sealed record Axis(string Key, string Part, YamlNode KeyNode, IReadOnlyList<YamlNode> Values);

    /// <summary>A value of one swept key at one point.</summary>
    /// <param name="Part">grid or zip: where the key is written (its errors are located there).</param>
    public sealed record SweptValue(string Key, string Part, YamlNode Value);

    /// <summary>A read sweep: its points, each a value per swept key in key order, and the explicit arms it multiplies (null: all).</summary>
    public sealed record Plan(IReadOnlyList<IReadOnlyList<SweptValue>> Points, IReadOnlySet<string>? Arms, YamlNode Node);

    /// <summary>Reads <c>sweep:</c>: its valid keys (the errors of the others recorded); null when none is valid.</summary>
    /// <param name="explicitArms">The names of the arms written under <c>arms:</c>.</param>
    public static Plan? Read(YamlNode node, IReadOnlyCollection<string> explicitArms, NodeOrigins origins, List<ConfigError> errors)
    {
        int before = errors.Count;
        if (node is not YamlMappingNode sweep)
        {
            errors.Add(origins.Error(node, "'sweep' must be a mapping with grid: and/or zip: (key: [values]) and optionally arms: [names]."));
            return null;
        }
        var axes = new List<Axis>();   // grid's and zip's, in the order written
        IReadOnlySet<string>? arms = null;
        foreach (var (keyNode, value) in sweep.Children)
        {
            var part = (keyNode as YamlScalarNode)?.Value ?? "";
            if (part == "arms") arms = ReadArms(value, explicitArms, origins, errors);
            else if (part is "grid" or "zip") axes.AddRange(ReadAxes(value, part, origins, errors));
            else errors.Add(origins.Error(keyNode, $"unknown key 'sweep.{part}'; accepted in 'sweep': {string.Join(", ", Parts)}."));
        }
        if (axes.Count == 0 && errors.Count == before)
            errors.Add(origins.Error(node, "'sweep' sweeps no key; give grid: or zip: with key: [values], e.g. grid: {iar.lambda: [0.5, 2]}."));
        axes = WithoutOverlaps(axes, origins, errors);
        var zip = axes.Where(a => a.Part == "zip").ToArray();
        if (zip.Select(a => a.Values.Count).Distinct().Count() > 1)
        {
            errors.Add(origins.Error(zip[0].KeyNode, "the lists under sweep.zip must be equally long (the i-th values go together); they have " +
                string.Join(", ", zip.Select(a => $"{a.Key}: {a.Values.Count}")) + "."));
            axes.RemoveAll(a => a.Part == "zip");
        }
        if (axes.Count > 0 && ArmCount(axes, explicitArms.Count, arms) is var (count, product) && count > ExperimentLoader.MaxArms)
        {
            errors.Add(origins.Error(node, $"the sweep makes {(count > 1e12 ? "more than 10^12" : count.ToString("N0"))} arms ({product}); " +
                $"an experiment may have at most {ExperimentLoader.MaxArms}: sweep fewer values, or split the sweep into several experiments."));
            return null;
        }
        // The valid keys still expand (with the errors recorded), so that their values' errors are reported in the same pass.
        return axes.Count == 0 ? null : new Plan(Points(axes), arms, node);
    }

    /// <summary>
    /// The arms the experiment has once the sweep is expanded, counted before expanding it: points × the explicit arms
    /// it applies to (one when there are none), plus the explicit arms it leaves as they are; and that product in words.
    /// A double, since the product of a few dozen lists overflows a long long before YamlLimits' node bound stops them.
    /// </summary>
    static (double Count, string Product) ArmCount(IReadOnlyList<Axis> axes, int explicitArms, IReadOnlySet<string>? applied)
    {
        var factors = axes.Where(a => a.Part == "grid").Select(a => (a.Values.Count, $"{a.Key}: {a.Values.Count}")).ToList();
        if (axes.FirstOrDefault(a => a.Part == "zip") is { } zip) factors.Add((zip.Values.Count, $"zip: {zip.Values.Count}"));
        int multiplied = explicitArms == 0 ? 1 : applied?.Count ?? explicitArms;
        if (multiplied > 1) factors.Add((multiplied, $"arms: {multiplied}"));
        double count = explicitArms - (explicitArms == 0 ? 0 : multiplied) + factors.Aggregate(1.0, (p, f) => p * f.Item1);
        return (count, string.Join(" × ", factors.Select(f => f.Item2)) + (explicitArms > multiplied ? $" + {explicitArms - multiplied} arms" : ""));
    }

    /// <summary>Grid × zip: every combination of the grid's values (the first key slowest), each with every zipped row.</summary>
    static IReadOnlyList<IReadOnlyList<SweptValue>> Points(IReadOnlyList<Axis> axes)
    {
        IEnumerable<IReadOnlyList<SweptValue>> points = [[]];
        foreach (var axis in axes.Where(a => a.Part == "grid"))
            points = points.SelectMany(p => axis.Values.Select(v => (IReadOnlyList<SweptValue>)[.. p, new SweptValue(axis.Key, axis.Part, v)])).ToArray();
        var zip = axes.Where(a => a.Part == "zip").ToArray();
        if (zip.Length > 0)
            points = points.SelectMany(p => Enumerable.Range(0, zip[0].Values.Count)
                .Select(i => (IReadOnlyList<SweptValue>)[.. p, .. zip.Select(a => new SweptValue(a.Key, a.Part, a.Values[i]))])).ToArray();
        return points.ToArray();
    }

    static IEnumerable<Axis> ReadAxes(YamlNode node, string part, NodeOrigins origins, List<ConfigError> errors)
    {
        if (node is not YamlMappingNode mapping)
        {
            errors.Add(origins.Error(node, $"'sweep.{part}' must be a mapping of keys to lists of values, e.g. {{iar.lambda: [0.5, 2]}}."));
            yield break;
        }
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (ExperimentLoader.CheckArmKey(key) is string problem)
            {
                errors.Add(origins.Error(keyNode, $"sweep.{part} key '{key}': {problem}"));
                continue;
            }
            if (value is not YamlSequenceNode { Children.Count: > 0 } values)
            {
                errors.Add(origins.Error(value, $"sweep.{part}.{key} must be a non-empty list of the values to try, e.g. [0.5, 2]."));
                continue;
            }
            yield return new Axis(key, part, keyNode, values.Children.ToArray());
        }
    }

    /// <summary>The axes without those that overlap an earlier one: a key swept twice (or a section and a key inside it) would have two values at once.</summary>
    static List<Axis> WithoutOverlaps(IReadOnlyList<Axis> axes, NodeOrigins origins, List<ConfigError> errors)
    {
        var kept = new List<Axis>();
        foreach (var axis in axes)
        {
            if (kept.FirstOrDefault(k => (axis.Key + ".").StartsWith(k.Key + ".", StringComparison.Ordinal) ||
                                         (k.Key + ".").StartsWith(axis.Key + ".", StringComparison.Ordinal)) is { } earlier)
                errors.Add(origins.Error(axis.KeyNode, $"sweep.{axis.Part} key '{axis.Key}' overlaps sweep.{earlier.Part} key '{earlier.Key}'; sweep each key once."));
            else kept.Add(axis);
        }
        return kept;
    }

    static IReadOnlySet<string>? ReadArms(YamlNode node, IReadOnlyCollection<string> explicitArms, NodeOrigins origins, List<ConfigError> errors)
    {
        if (node is not YamlSequenceNode list || list.Children.Any(c => c is not YamlScalarNode))
        {
            errors.Add(origins.Error(node, "'sweep.arms' must be a list of the names of arms under arms:."));
            return null;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in list.Children.Cast<YamlScalarNode>())
        {
            if (!explicitArms.Contains(item.Value ?? ""))
                errors.Add(origins.Error(item, $"sweep.arms names '{item.Value}', which is no arm under arms:; " +
                    (explicitArms.Count == 0 ? "there are none, so leave sweep.arms out." : $"the arms are {string.Join(", ", explicitArms)}.")));
            else names.Add(item.Value!);
        }
        return names;
    }

    /// <summary>The overlay a point adds to an arm: <c>{iar: {lambda: 0.5}, training: {lr: 0.001}}</c>, the values being the nodes as written.</summary>
    public static YamlMappingNode Overlay(IReadOnlyList<SweptValue> point)
    {
        var root = new YamlMappingNode();
        foreach (var value in point)
        {
            var path = value.Key.Split('.');
            var at = root;
            foreach (var segment in path[..^1])
            {
                var key = new YamlScalarNode(segment);
                if (!at.Children.TryGetValue(key, out var next)) at.Children[key] = next = new YamlMappingNode();
                at = (YamlMappingNode)next;   // keys do not overlap (CheckOverlaps), so an inner node is always a mapping made here
            }
            at.Children[new YamlScalarNode(path[^1])] = value.Value;
        }
        return root;
    }

    /// <summary><c>lambda-0.5_lr-0.001</c>: each swept key by its last segment (its whole key when two share one) and its value.</summary>
    public static string Name(IReadOnlyList<SweptValue> point)
    {
        var last = point.Select(v => v.Key.Split('.')[^1]).ToArray();
        return string.Join("_", point.Select((v, i) =>
            $"{(last.Count(l => l == last[i]) > 1 ? v.Key : last[i])}-{Regex.Replace(Text(v.Value), "[^A-Za-z0-9._-]", "-")}"));
    }

    /// <summary>A value as it reads in a name: a scalar's text, a list's or mapping's scalars joined by '-'.</summary>
    static string Text(YamlNode value) => value switch
    {
        YamlScalarNode s => s.Value is null or "" or "~" ? "null" : s.Value,
        _ => string.Join("-", value.AllNodes.OfType<YamlScalarNode>().Select(Text)),
    };
}

/// <summary>
/// <c>--sweep KEY=V1,V2</c> (repeatable; <c>KEY=[V1, V2]</c> for values with commas) and <c>--zip</c> of <c>iar run</c>,
/// <c>iar validate</c> and <c>iar submit</c>: written into the experiment's <c>sweep.grid</c> (<c>sweep.zip</c> with
/// <c>--zip</c>) before it is read, replacing a key the file sweeps, so the command line and the YAML expand alike.
/// </summary>
public sealed record CommandLineSweep(IReadOnlyList<string> Texts, bool Zip)
{
    public static readonly CommandLineSweep None = new([], false);

    /// <summary>The options that repeat this sweep on another command line (workers, Slurm scripts).</summary>
    public IEnumerable<string> Arguments() =>
        Texts.SelectMany(t => new[] { "--sweep", t }).Concat(Zip ? ["--zip"] : []);

    public void ApplyTo(YamlMappingNode root, NodeOrigins origins, List<ConfigError> errors)
    {
        if (Zip && Texts.Count == 0)
        {
            errors.Add(new ConfigError("--zip", 0, 0, "--zip zips the lists of --sweep; give --sweep KEY=V1,V2 with it."));
            return;
        }
        foreach (var text in Texts)
        {
            var source = $"--sweep {text}";
            int eq = text.IndexOf('=');
            if (eq <= 0 || eq == text.Length - 1)
            {
                errors.Add(new ConfigError($"override '{source}'", 0, 0, "--sweep takes KEY=V1,V2,… (or KEY=[V1, V2]), e.g. --sweep iar.lambda=0.5,2."));
                continue;
            }
            YamlSequenceNode values;
            try
            {
                values = Values(text[(eq + 1)..]);
            }
            catch (ConfigValidationException e)
            {
                errors.Add(new ConfigError($"override '{source}'", 0, 0, e.Errors[0].Message));
                continue;
            }
            var key = new YamlScalarNode(text[..eq]);
            origins.MarkOverride(key, source);
            origins.MarkOverride(values, source);
            var sweep = Section(root, ArmSweep.Key);
            if (sweep is null)
            {
                errors.Add(new ConfigError($"override '{source}'", 0, 0, $"'sweep' in {Path.GetFileName(origins.File)} is not a mapping, so --sweep cannot add to it."));
                continue;
            }
            var part = Section(sweep, Zip ? "zip" : "grid");
            if (part is null)
            {
                errors.Add(new ConfigError($"override '{source}'", 0, 0, $"'sweep.{(Zip ? "zip" : "grid")}' in {Path.GetFileName(origins.File)} is not a mapping, so --sweep cannot add to it."));
                continue;
            }
            part.Children[key] = values;
        }
    }

    /// <summary><c>[a, b]</c> as YAML; otherwise comma-separated values, each read as a YAML scalar (as an override's value is).</summary>
    static YamlSequenceNode Values(string text)
    {
        if (text.TrimStart().StartsWith('['))
        {
            YamlLimits.Check(text, "", "list");   // it meets YamlDotNet as a file does
            try
            {
                var stream = new YamlStream();
                stream.Load(new StringReader(text));
                if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlSequenceNode list) return list;
            }
            catch (YamlDotNet.Core.YamlException)
            {
                // not a YAML list: read as comma-separated text below
            }
        }
        return new YamlSequenceNode(text.Split(',').Select(v => (YamlNode)new YamlScalarNode(v.Trim())));
    }

    /// <summary>The mapping under <paramref name="key"/>, created when absent or null; null when something else is there.</summary>
    static YamlMappingNode? Section(YamlMappingNode parent, string key)
    {
        var k = new YamlScalarNode(key);
        if (parent.Children.TryGetValue(k, out var existing) && existing is not YamlScalarNode { Value: null or "" or "~" or "null" })
            return existing as YamlMappingNode;
        var created = new YamlMappingNode();
        parent.Children[k] = created;
        return created;
    }
}
