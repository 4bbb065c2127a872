using IAR.Host.Configuration;
using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace IAR.Host.Experiments;

/// <summary>Writes spec records back to YAML with every key explicit (the resolved config of a run).</summary>
public static class SpecYamlWriter
{
    public static string Write(ExperimentSpec spec, IReadOnlyList<ArmPlan> arms)
    {
        var root = ToNode(spec);
        if (arms.Count > 1 || arms[0].Spec != spec)
        {
            var armNodes = new YamlSequenceNode();
            foreach (var arm in arms)
            {
                var node = new YamlMappingNode { { "name", arm.Name } };
                foreach (var section in ExperimentLoader.ArmSections)
                {
                    var property = SpecSchema.Keys(typeof(ExperimentSpec)).Single(k => k.Key == section).Property;
                    node.Add(section, ToNode(property.GetValue(arm.Spec)!));
                }
                armNodes.Add(node);
            }
            root.Add("arms", armNodes);
        }
        var writer = new StringWriter { NewLine = "\n" };
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        var text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    public static YamlMappingNode ToNode(object section)
    {
        var node = new YamlMappingNode();
        foreach (var (key, property) in SpecSchema.Keys(section.GetType()))
        {
            var value = property.GetValue(section);
            // No extra loss terms reads as it did before training.loss existed, so the config that identifies a job
            // (recorded in its checkpoints) is unchanged and earlier runs still resume.
            if (value is IReadOnlyDictionary<string, double> { Count: 0 }) continue;
            node.Add(key, ValueNode(value));
        }
        return node;
    }

    static YamlNode ValueNode(object? value) => value switch
    {
        null => new YamlScalarNode("null"),
        string s => new YamlScalarNode(s) { Style = NeedsQuotes(s) ? YamlDotNet.Core.ScalarStyle.DoubleQuoted : YamlDotNet.Core.ScalarStyle.Any },
        bool b => new YamlScalarNode(b ? "true" : "false"),
        Enum e => new YamlScalarNode(SpecSchema.EnumValue(e)),
        double d => new YamlScalarNode(d.ToString("R", CultureInfo.InvariantCulture)),
        IFormattable f => new YamlScalarNode(f.ToString(null, CultureInfo.InvariantCulture)),
        IReadOnlyDictionary<string, string> map => new YamlMappingNode(map.Select(kv =>
            new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(kv.Key), ValueNode(kv.Value)))),
        IReadOnlyDictionary<string, double> weights => new YamlMappingNode(weights.Select(kv =>
            new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(kv.Key), ValueNode(kv.Value)))),
        System.Collections.IEnumerable list => new YamlSequenceNode(list.Cast<object?>().Select(ValueNode))
            { Style = YamlDotNet.Core.Events.SequenceStyle.Flow },
        _ => ToNode(value),
    };

    /// <summary>Strings YAML would read as null; quoted so that they stay strings (bound as strings either way).</summary>
    static bool NeedsQuotes(string s) => s is "" or "~" or "null" or "Null" or "NULL";
}
