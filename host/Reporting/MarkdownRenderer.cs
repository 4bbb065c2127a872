using System.Text;

namespace IAR.Host.Reporting;

/// <summary>Renders report blocks as GitHub-flavoured Markdown; images are linked by their relative paths.</summary>
public static class MarkdownRenderer
{
    public static string Render(IEnumerable<ReportBlock> blocks)
    {
        var md = new StringBuilder();
        foreach (var block in blocks)
        {
            switch (block)
            {
                case HeadingBlock h:
                    md.Append('#', h.Level).Append(' ').AppendLine(h.Text);
                    break;
                case ParagraphBlock p:
                    md.AppendLine(p.Emphasis ? $"**{p.Text}**" : p.Text);
                    break;
                case TableBlock t:
                    md.AppendLine("| " + string.Join(" | ", t.Headers.Select(Cell)) + " |");
                    md.AppendLine("|" + string.Join("|", t.Headers.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
                    foreach (var row in t.Rows) md.AppendLine("| " + string.Join(" | ", row.Select(Cell)) + " |");
                    break;
                case ImageRowBlock images:
                    md.AppendLine("| " + string.Join(" | ", images.Images.Select(i => Cell(i.Caption))) + " |");
                    md.AppendLine("|" + string.Join("|", images.Images.Select(_ => ":---:")) + "|");
                    md.AppendLine("| " + string.Join(" | ", images.Images.Select(i => $"![{Cell(i.Caption)}]({i.RelativePath.Replace('\\', '/')})")) + " |");
                    break;
                default:
                    throw new ArgumentException($"Unknown report block {block.GetType().Name}.", nameof(blocks));
            }
            md.AppendLine();
        }
        return md.ToString();
    }

    static string Cell(string text) => text.Replace("|", "\\|").Replace("\n", " ");
}
