using YamlDotNet.RepresentationModel;

namespace IAR.Host.Configuration;

/// <summary>
/// Finds the YAML node of a key path (e.g. <c>arms.1.generator.preset</c>, <c>sweep.grid.generator.preset</c>) to locate
/// errors found after binding; the deepest node that exists when the path goes further than the file.
/// </summary>
public sealed class KeyLocator(YamlMappingNode root, NodeOrigins origins)
{
    public ConfigError ErrorAt(string keyPath, string message)
    {
        var segments = keyPath.Split('.');
        YamlNode found = root;
        for (int i = 0; i < segments.Length;)
        {
            var (node, used) = Step(found, segments, i);
            if (node is null) break;
            found = node;
            i += used;
        }
        return origins.Error(found, message);
    }

    /// <summary>
    /// The child named by segments from <paramref name="i"/> on, and how many segments its key takes: a swept key is one
    /// mapping key with dots (<c>sweep.grid</c> holds <c>generator.preset</c>), so the longest run that is a key wins.
    /// </summary>
    static (YamlNode? Node, int Used) Step(YamlNode node, string[] segments, int i)
    {
        if (node is YamlSequenceNode s)
            return int.TryParse(segments[i], out var index) && index >= 0 && index < s.Children.Count ? (s.Children[index], 1) : (null, 0);
        if (node is not YamlMappingNode m) return (null, 0);
        for (int n = segments.Length - i; n >= 1; n--)
            if (m.Children.TryGetValue(new YamlScalarNode(string.Join('.', segments, i, n)), out var child))
                return (child, n);
        return (null, 0);
    }
}
