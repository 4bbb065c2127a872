using IAR.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace IAR.Host.Configuration;

/// <summary>
/// Bounds on an experiment YAML checked with YamlDotNet's event parser (a state machine: no recursion) before the
/// document is built into nodes and bound: its size, its nesting, the number of nodes it stands for once every
/// alias is expanded (a "billion laughs" file is a few lines of anchors each aliased ten times), and aliases only to
/// complete nodes anchored before them.
/// </summary>
public static class YamlLimits
{
    public const int MaxBytes = 1 << 20, MaxDepth = 64;

    /// <summary>Nodes after alias expansion; a real experiment has a few hundred.</summary>
    public const long MaxExpandedNodes = 100_000;

    /// <summary>
    /// Arms × nodes: each arm is bound over the whole document (the base with its settings merged in), so this is the
    /// work of reading an experiment — a 1000-arm sweep over a 9,000-seed list took 4 s — and a real one is far below
    /// it (a 1000-arm sweep of the quickstart: 300,000).
    /// </summary>
    public const long MaxArmNodes = 2_000_000;

    /// <summary>Syntax errors are left to the loader, which reports them with line and column.</summary>
    /// <returns>The document's nodes after alias expansion (those read before a syntax error).</returns>
    /// <exception cref="ConfigValidationException">The file is larger, deeper or expands to more nodes than accepted.</exception>
    /// <param name="subject">What the text is, in the messages: "the file is not read", "the value is not read" (an override's).</param>
    public static long Check(string text, string file, string subject = "file")
    {
        if (text.Length > MaxBytes) throw Refuse(file, subject, $"it has {text.Length} characters; experiment files up to {MaxBytes} are read");
        var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        var open = new Stack<(long Nodes, string? Anchor)>();
        long total = 0;
        var parser = new Parser(new StringReader(text));
        try
        {
            while (parser.MoveNext())
            {
                long completed;
                string? anchor = null;
                switch (parser.Current)
                {
                    case MappingStart or SequenceStart:
                        if (open.Count >= MaxDepth) throw Refuse(file, subject, $"it nests deeper than {MaxDepth} levels");
                        var start = (NodeEvent)parser.Current;
                        open.Push((1, start.Anchor.IsEmpty ? null : start.Anchor.Value));
                        continue;
                    case MappingEnd or SequenceEnd:
                        (completed, anchor) = open.Pop();
                        break;
                    case Scalar scalar:
                        completed = 1;
                        anchor = scalar.Anchor.IsEmpty ? null : scalar.Anchor.Value;
                        break;
                    case AnchorAlias alias:
                        // YAML lets an alias repeat a node anchored before it. YamlDotNet also accepts one written before
                        // its anchor and resolves it afterwards, and as a mapping key that placeholder recurses in
                        // Equals until the stack overflows, which no catch survives ("*x : 1\nb: &x [1]", found by
                        // fuzzing); an alias inside its own anchor's node would make a cycle. Both are refused here.
                        var name = alias.Value.Value;
                        if (!anchors.TryGetValue(name, out completed) || open.Any(o => o.Anchor == name))
                            throw new ConfigValidationException([new ConfigError(file, (int)alias.Start.Line, (int)alias.Start.Column,
                                $"the {subject} is not read: the alias *{name} comes before its anchor &{name} or inside the node it anchors; " +
                                "an alias may only repeat a complete node anchored earlier.")]);
                        break;
                    default:
                        continue;
                }
                if (anchor is not null) anchors[anchor] = completed;
                if (open.Count > 0)
                {
                    var (nodes, a) = open.Pop();
                    open.Push((nodes + completed, a));
                }
                else total += completed;
                if (total + open.Sum(o => o.Nodes) > MaxExpandedNodes)
                    throw Refuse(file, subject, $"its aliases expand to more than {MaxExpandedNodes} nodes");
            }
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            // Malformed YAML is reported by the loader (with its position where YamlDotNet gives one). Besides
            // YamlException, YamlDotNet's parser throws InvalidOperationException and ArgumentException ("!![": a tag
            // that is no URI) on some malformed input (found by fuzzing, fuzz/run yaml); the loader meets them again.
        }
        return total + open.Sum(o => o.Nodes);
    }

    static ConfigValidationException Refuse(string file, string subject, string reason) =>
        new([new ConfigError(file, 0, 0, $"the {subject} is not read: {reason}.")]);
}
