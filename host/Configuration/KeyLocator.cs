using YamlDotNet.RepresentationModel;

namespace IAR.Host.Configuration;

/// <summary>Finds the YAML node of a key path (e.g. <c>arms.1.generator.preset</c>) to locate errors found after binding.</summary>
public sealed class KeyLocator(YamlMappingNode root, NodeOrigins origins)
{
    public ConfigError ErrorAt(string keyPath, string message)
    {
        YamlNode? node = root, found = root;
        foreach (var segment in keyPath.Split('.'))
        {
            node = node switch
            {
                YamlMappingNode m => m.Children.TryGetValue(new YamlScalarNode(segment), out var v) ? v : null,
                YamlSequenceNode s when int.TryParse(segment, out var i) && i >= 0 && i < s.Children.Count => s.Children[i],
                _ => null,
            };
            if (node is null) break;
            found = node;
        }
        return origins.Error(found, message);
    }
}
