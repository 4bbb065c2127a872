using IAR.Host.Configuration;
using IAR.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace IAR.Host.Experiments;

/// <summary>
/// YAML + overrides → a validated <see cref="Experiment"/>. Every problem is collected and reported at once with
/// file:line:column; nothing is half-applied.
/// </summary>
public static class ExperimentLoader
{
    /// <summary>The sections an arm may change; data and tokenizer are shared so that arms share one token cache.</summary>
    public static readonly IReadOnlyList<string> ArmSections = ["iar", "generator", "training", "sampling", "evaluation"];

    /// <summary>
    /// The most arms an experiment may have, written or swept. Each arm is bound and checked when the file is read
    /// (≈ 0.7 ms each) and becomes a job per seed, so a sweep's product is refused before it is expanded: 4 keys × 12
    /// values is 20,736 arms, 14 s and 0.9 GB just to read (found looking for what aborted CI's yaml fuzz target).
    /// </summary>
    public const int MaxArms = 1000;

    /// <exception cref="ConfigurationException">The file cannot be read, or the configuration has errors.</exception>
    public static Experiment Load(string file, IEnumerable<string>? overrides = null, CommandLineSweep? sweep = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"Experiment file '{file}' cannot be read: {e.Message}");
        }
        return Parse(text, Path.GetFullPath(file), overrides ?? [], sweep);
    }

    public static Experiment Parse(string text, string file, IEnumerable<string> overrides, CommandLineSweep? sweep = null)
    {
        var origins = new NodeOrigins(file);
        var (root, nodes) = ParseYaml(text, origins);
        var errors = new List<ConfigError>();
        foreach (var raw in overrides)
        {
            try
            {
                Apply(root, ConfigOverride.Parse(raw), origins, errors);
            }
            catch (ConfigurationException e)
            {
                errors.Add(new ConfigError($"override '{raw}'", 0, 0, e is ConfigValidationException v ? v.Errors[0].Message : e.Message));
            }
        }
        sweep?.ApplyTo(root, origins, errors);

        YamlNode? Section(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out var n) && !IsNull(n) ? n : null;
        var armsNode = Section("arms");
        var sweepNode = Section(ArmSweep.Key);
        var baseNode = new YamlMappingNode(root.Children.Where(kv => (kv.Key as YamlScalarNode)?.Value is not ("arms" or ArmSweep.Key)));
        var binder = new YamlBinder(origins);
        var spec = binder.BindSection<ExperimentSpec>(baseNode, "");
        errors.AddRange(binder.Errors);

        var overlays = armsNode is null ? [] : ReadArms(armsNode, origins, errors);
        if (sweepNode is not null && ArmSweep.Read(sweepNode, overlays.Select(o => o.Name).ToArray(), origins, errors) is { } plan)
            overlays = Expand(overlays, plan, origins, errors);
        if ((long)overlays.Count * nodes > YamlLimits.MaxArmNodes)
        {
            // Each arm is bound over the whole document, so arms × its nodes is the work of reading it (YamlLimits.MaxArmNodes).
            errors.Add(new ConfigError(file, 0, 0, $"the experiment has {overlays.Count} arms and {nodes:N0} nodes (after aliases), and each arm " +
                $"is read over all of them: arms × nodes up to {YamlLimits.MaxArmNodes:N0} are accepted; give fewer arms or shorter lists."));
            overlays = [];
        }
        var arms = binder.Errors.Count == 0 ? BindArms(overlays, baseNode, origins, errors) : [];
        if (errors.Count > 0) throw new ConfigValidationException(errors.Distinct().ToArray());
        if (arms.Count == 0) arms.Add(new ArmPlan(ArmPlan.DefaultName(spec), spec));
        return new Experiment(file, spec, arms, SpecYamlWriter.Write(spec, arms), new KeyLocator(root, origins));
    }

    /// <summary>An arm before binding: its name, what it sets over the base, and where each section it sets is written.</summary>
    /// <param name="SectionKeys">Section → the key path that sets it (<c>arms.1.iar</c>, <c>sweep.grid.iar</c>), to locate later errors.</param>
    sealed record ArmOverlay(string Name, YamlMappingNode Overlay, IReadOnlyDictionary<string, string> SectionKeys);

    /// <returns>The top-level mapping and its nodes after alias expansion.</returns>
    static (YamlMappingNode Root, long Nodes) ParseYaml(string text, NodeOrigins origins)
    {
        long nodes = YamlLimits.Check(text, origins.File);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var message = (e.InnerException as YamlException)?.Message ?? e.Message;
            throw new ConfigValidationException(
                [new ConfigError(origins.File, (int)e.Start.Line, (int)e.Start.Column, $"YAML syntax error: {Clean(message)}")]);
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            // YamlDotNet fails with other exceptions on some malformed input (found by fuzzing, fuzz/run yaml):
            // InvalidOperationException for a '%' inside a flow sequence, ArgumentException for a control character
            // where a scalar is expected (" : \x87", "\0: x") or a tag that is no URI ("!!["). Load runs YamlDotNet
            // only, on at most YamlLimits.MaxBytes, so whatever it throws means the text is not YAML it can read.
            throw new ConfigValidationException([new ConfigError(origins.File, 0, 0, $"YAML syntax error: the file is not well-formed YAML ({e.Message}).")]);
        }
        if (stream.Documents.Count == 0)
            throw new ConfigValidationException([new ConfigError(origins.File, 0, 0, "the file is empty; an experiment mapping is expected.")]);
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ConfigValidationException([origins.Error(stream.Documents[0].RootNode, "the top level must be a mapping of keys to values.")]);
        return (root, nodes);
    }

    static string Clean(string message)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (Line: ...): " — the location is already in front.
        int i = message.LastIndexOf("): ", StringComparison.Ordinal);
        return i >= 0 ? message[(i + 3)..] : message;
    }

    /// <summary>The arms written under <c>arms:</c>, each checked for a valid, unique name and sections it may set.</summary>
    static List<ArmOverlay> ReadArms(YamlNode armsNode, NodeOrigins origins, List<ConfigError> errors)
    {
        var overlays = new List<ArmOverlay>();
        if (armsNode is not YamlSequenceNode sequence)
        {
            errors.Add(origins.Error(armsNode, "'arms' must be a list of arms, each a mapping with a name."));
            return overlays;
        }
        if (sequence.Children.Count > MaxArms)
        {
            errors.Add(origins.Error(armsNode, $"'arms' lists {sequence.Children.Count} arms; an experiment may have at most {MaxArms} (split it into several experiments)."));
            return overlays;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < sequence.Children.Count; i++)
        {
            var armNode = sequence.Children[i];
            if (armNode is not YamlMappingNode arm)
            {
                errors.Add(origins.Error(armNode, $"arms[{i}] must be a mapping with a name and the sections it changes."));
                continue;
            }
            string? name = null;
            bool ok = true;
            foreach (var (keyNode, valueNode) in arm.Children)
            {
                var key = (keyNode as YamlScalarNode)?.Value ?? "";
                if (key == "name") name = (valueNode as YamlScalarNode)?.Value;
                else if (!ArmSections.Contains(key))
                {
                    errors.Add(origins.Error(keyNode, $"arms[{i}].{key} cannot differ between arms; an arm may set name, " +
                        $"{string.Join(", ", ArmSections)} (data and tokenizer are shared so that arms share one token cache)."));
                    ok = false;
                }
            }
            if (string.IsNullOrEmpty(name) || !IsArmName(name))
            {
                errors.Add(origins.Error(arm, $"arms[{i}] needs a name of letters, digits, '.', '_' or '-'."));
                ok = false;
            }
            else if (!names.Add(name))
            {
                errors.Add(origins.Error(arm, $"arms[{i}]: the name '{name}' is used by another arm; arm names must be unique."));
                ok = false;
            }
            if (!ok) continue;
            var overlay = new YamlMappingNode(arm.Children.Where(kv => (kv.Key as YamlScalarNode)?.Value != "name"));
            int index = i;
            overlays.Add(new ArmOverlay(name!, overlay,
                overlay.Children.Keys.OfType<YamlScalarNode>().ToDictionary(k => k.Value!, k => $"arms.{index}.{k.Value}")));
        }
        return overlays;
    }

    /// <summary>
    /// Each explicit arm the sweep applies to × each point (<c>arm_point</c>, the point's values set after the arm's);
    /// the other explicit arms as they are; without explicit arms, one arm per point.
    /// </summary>
    static List<ArmOverlay> Expand(List<ArmOverlay> explicitArms, ArmSweep.Plan plan, NodeOrigins origins, List<ConfigError> errors)
    {
        var expanded = new List<ArmOverlay>();
        IReadOnlyList<ArmOverlay?> sources = explicitArms.Count == 0 ? new ArmOverlay?[] { null } : explicitArms;
        foreach (var arm in sources)
        {
            if (arm is not null && plan.Arms is not null && !plan.Arms.Contains(arm.Name))
            {
                expanded.Add(arm);
                continue;
            }
            foreach (var point in plan.Points)
            {
                var sectionKeys = new Dictionary<string, string>(arm?.SectionKeys ?? new Dictionary<string, string>());
                foreach (var value in point) sectionKeys[value.Key.Split('.')[0]] = $"{ArmSweep.Key}.{value.Part}.{value.Key.Split('.')[0]}";
                var pointName = ArmSweep.Name(point);
                var overlay = Merge(arm?.Overlay ?? new YamlMappingNode(), ArmSweep.Overlay(point));
                expanded.Add(new ArmOverlay(arm is null ? pointName : $"{arm.Name}_{pointName}", overlay, sectionKeys));
            }
        }
        foreach (var clash in expanded.GroupBy(a => a.Name).Where(g => g.Count() > 1))
            errors.Add(origins.Error(plan.Node, $"the sweep names two arms '{clash.Key}' (values that differ only in characters a name cannot hold, " +
                "or an arm named like a generated one); arm names must be unique."));
        return expanded;
    }

    static List<ArmPlan> BindArms(IReadOnlyList<ArmOverlay> overlays, YamlMappingNode baseNode, NodeOrigins origins, List<ConfigError> errors)
    {
        var arms = new List<ArmPlan>();
        foreach (var arm in overlays)
        {
            var binder = new YamlBinder(origins);
            var spec = binder.BindSection<ExperimentSpec>(Merge(baseNode, arm.Overlay), "");
            errors.AddRange(binder.Errors);
            if (binder.Errors.Count == 0)
                arms.Add(new ArmPlan(arm.Name, spec) { Settings = Settings(arm.Overlay, ""), SectionKeys = arm.SectionKeys });
        }
        return arms;
    }

    /// <summary>An arm name: letters, digits, '.', '_' or '-', not starting with a punctuation mark (it names folders).</summary>
    static bool IsArmName(string name) => System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9][A-Za-z0-9._-]*$");

    /// <summary>Every value an overlay sets, as <c>key.sub=value</c> in the order written.</summary>
    static IReadOnlyList<ArmSetting> Settings(YamlMappingNode overlay, string prefix) =>
        overlay.Children.SelectMany(kv =>
        {
            var key = prefix + ((kv.Key as YamlScalarNode)?.Value ?? "");
            return kv.Value is YamlMappingNode { Children.Count: > 0 } inner
                ? Settings(inner, key + ".")
                : (IEnumerable<ArmSetting>)[new ArmSetting(key, Flow(kv.Value))];
        }).ToArray();

    /// <summary>A value as one line of YAML: <c>0.5</c>, <c>[fid, is]</c>, <c>{}</c>.</summary>
    static string Flow(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value is null or "" ? "null" : s.Value,
        YamlSequenceNode list => "[" + string.Join(", ", list.Children.Select(Flow)) + "]",
        YamlMappingNode map => "{" + string.Join(", ", map.Children.Select(kv => $"{Flow(kv.Key)}: {Flow(kv.Value)}")) + "}",
        _ => node.ToString(),
    };

    /// <summary>Deep merge: mappings merge key by key, anything else in the overlay replaces the base.</summary>
    static YamlMappingNode Merge(YamlMappingNode @base, YamlMappingNode overlay)
    {
        var merged = new YamlMappingNode();
        foreach (var (k, v) in @base.Children) merged.Children[k] = v;
        foreach (var (k, v) in overlay.Children)
        {
            merged.Children[k] = merged.Children.TryGetValue(k, out var existing) &&
                                 existing is YamlMappingNode em && v is YamlMappingNode om
                ? Merge(em, om)
                : v;
        }
        return merged;
    }

    static void Apply(YamlMappingNode root, ConfigOverride o, NodeOrigins origins, List<ConfigError> errors)
    {
        var problem = CheckPath(o.Path);
        if (problem is not null)
        {
            errors.Add(new ConfigError($"override '{o.Text}'", 0, 0, problem));
            return;
        }
        YamlNode current = root;
        for (int i = 0; i < o.Path.Count - 1; i++)
        {
            var next = Child(current, o.Path[i]);
            if (next is null || IsNull(next))
            {
                if (o.IsDelete || current is not YamlMappingNode m)
                {
                    errors.Add(new ConfigError($"override '{o.Text}'", 0, 0, $"'{string.Join('.', o.Path.Take(i + 1))}' is not set in {Path.GetFileName(origins.File)}, so there is nothing to change below it."));
                    return;
                }
                next = new YamlMappingNode();
                origins.MarkOverride(next, o.Text);
                m.Children[new YamlScalarNode(o.Path[i])] = next;
            }
            current = next;
        }
        var last = o.Path[^1];
        if (current is not YamlMappingNode target)
        {
            errors.Add(new ConfigError($"override '{o.Text}'", 0, 0, $"'{string.Join('.', o.Path.SkipLast(1))}' is not a mapping."));
            return;
        }
        var key = new YamlScalarNode(last);
        if (o.IsDelete)
        {
            if (!target.Children.Remove(key))
                errors.Add(new ConfigError($"override '{o.Text}'", 0, 0, $"'{string.Join('.', o.Path)}' is not set in {Path.GetFileName(origins.File)}, so it cannot be deleted."));
            return;
        }
        var value = ParseValue(o.Value!);
        origins.MarkOverride(value, o.Text);
        target.Children[key] = value;
    }

    static YamlNode ParseValue(string text)
    {
        if (text.Trim().Length == 0) return new YamlScalarNode("");
        YamlLimits.Check(text, "", "value");   // a command-line value meets YamlDotNet as a file does
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? new YamlScalarNode(text) : stream.Documents[0].RootNode;
        }
        catch (YamlException)
        {
            return new YamlScalarNode(text);
        }
    }

    static YamlNode? Child(YamlNode node, string segment)
    {
        if (node is YamlMappingNode m) return m.Children.TryGetValue(new YamlScalarNode(segment), out var v) ? v : null;
        if (node is YamlSequenceNode s)
        {
            if (int.TryParse(segment, out var index)) return index >= 0 && index < s.Children.Count ? s.Children[index] : null;
            // arms can be addressed by name as well as by index
            return s.Children.OfType<YamlMappingNode>().FirstOrDefault(arm =>
                arm.Children.TryGetValue(new YamlScalarNode("name"), out var n) && (n as YamlScalarNode)?.Value == segment);
        }
        return null;
    }

    /// <summary>Null when <paramref name="key"/> (<c>iar.lambda</c>) is a key an arm may set, else the reason.</summary>
    internal static string? CheckArmKey(string key)
    {
        var path = key.Split('.');
        if (path.Any(p => p.Length == 0)) return "keys look like 'training.lr' (no empty segment).";
        if (path[0] is "data" or "tokenizer")
            return $"'{path[0]}' cannot differ between arms: data and tokenizer are prepared once per run, so that the arms share one token cache; " +
                   $"run the experiment once per value instead, each with an override and its own --run-dir (e.g. '{key}=…' --run-dir runs/NAME-VALUE; " +
                   "experiments/codebook-size-study does so for the codebook size).";
        if (!ArmSections.Contains(path[0]))
            return $"'{path[0]}' cannot differ between arms; keys of {string.Join(", ", ArmSections)} are accepted.";
        return CheckPath(path);
    }

    /// <summary>Null when the key path exists in the schema, else the reason.</summary>
    static string? CheckPath(IReadOnlyList<string> path)
    {
        Type type = typeof(ExperimentSpec);
        for (int i = 0; i < path.Count; i++)
        {
            var segment = path[i];
            var where = i == 0 ? "the top level" : $"'{string.Join('.', path.Take(i))}'";
            if (type == typeof(ExperimentSpec) && i == 0 && segment == ArmSweep.Key)
                return path.Count == 1 ? null : "the sweep is changed with --sweep KEY=V1,V2 (and --zip), or removed with ~sweep.";
            if (type == typeof(ExperimentSpec) && i == 0 && segment == "arms")
            {
                if (path.Count < 3) return "an arm is changed with 'arms.<index or name>.<section>.<key>=value'.";
                i++; // the arm index or name
                if (path[2] == "name") return path.Count == 3 ? null : "'name' has no keys below it.";
                if (!ArmSections.Contains(path[2]))
                    return $"'{path[2]}' cannot differ between arms; an arm may set name, {string.Join(", ", ArmSections)}.";
                continue;
            }
            if (SpecSchema.IsOptionsMap(type))
                return i == path.Count - 1 ? null : $"options take plain values; '{string.Join('.', path)}' goes too deep.";
            if (!SpecSchema.IsSection(type))
                return $"'{string.Join('.', path.Take(i))}' is a value, not a section with keys.";
            var keys = SpecSchema.Keys(type);
            var match = keys.FirstOrDefault(k => k.Key == segment);
            if (match.Property is null)
                return $"'{string.Join('.', path.Take(i + 1))}' is not a key of the schema; accepted at {where}: " +
                       string.Join(", ", keys.Select(k => k.Key).Concat(i == 0 ? ["arms", ArmSweep.Key] : [])) + ".";
            type = Nullable.GetUnderlyingType(match.Property.PropertyType) ?? match.Property.PropertyType;
        }
        return null;
    }

    static bool IsNull(YamlNode node) => node is YamlScalarNode { Value: null or "" or "~" or "null" };
}
