using YamlDotNet.RepresentationModel;

namespace IAR.Host.Configuration;

/// <summary>
/// Where each YAML node came from: the experiment file (with line and column) or a command-line override.
/// Used to locate errors and to resolve relative paths (file: its folder; override: the working directory).
/// </summary>
public sealed class NodeOrigins(string file)
{
    readonly Dictionary<YamlNode, string> overrides = new(ReferenceEqualityComparer.Instance);

    public string File { get; } = file;

    public string BaseDirectory => Path.GetDirectoryName(Path.GetFullPath(File)) ?? Directory.GetCurrentDirectory();

    /// <summary>Marks <paramref name="node"/> and all nodes below it as coming from <paramref name="overrideText"/>.</summary>
    public void MarkOverride(YamlNode node, string overrideText)
    {
        overrides[node] = overrideText;
        foreach (var child in node.AllNodes) overrides[child] = overrideText;
    }

    public ConfigError Error(YamlNode? node, string message)
    {
        if (node is not null && overrides.TryGetValue(node, out var text))
            return new ConfigError($"override '{text}'", 0, 0, message);
        return node is null
            ? new ConfigError(File, 0, 0, message)
            : new ConfigError(File, (int)node.Start.Line, (int)node.Start.Column, message);
    }

    public string ResolvePath(YamlNode node, string value)
    {
        if (Path.IsPathRooted(value)) return value;
        var baseDir = overrides.ContainsKey(node) ? Directory.GetCurrentDirectory() : BaseDirectory;
        return Path.GetFullPath(Path.Combine(baseDir, value));
    }
}
