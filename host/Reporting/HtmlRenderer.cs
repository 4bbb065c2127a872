using System.Net;
using System.Text;

namespace IAR.Host.Reporting;

/// <summary>
/// Renders report blocks as one self-contained HTML page: inline CSS, PNGs embedded as base64 data URIs, no scripts
/// and no external references, so the file can be mailed or archived alone.
/// </summary>
public static class HtmlRenderer
{
    const string Style = """
        body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        th { background: #f3f3f3; }
        .verdict { font-size: 1.15em; font-weight: bold; background: #eef6ee; border-left: 4px solid #4a4; padding: 0.6em 1em; }
        .images { display: flex; flex-wrap: wrap; gap: 1.5em; }
        figure { margin: 0; }
        figcaption { text-align: center; font-size: 0.9em; color: #555; }
        img { image-rendering: pixelated; max-width: 100%; }
        """;

    /// <param name="runDirectory">Image paths are relative to it.</param>
    public static string Render(string title, IEnumerable<ReportBlock> blocks, string runDirectory)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.AppendLine($"<title>{E(title)}</title>");
        html.AppendLine($"<style>{Style}</style></head><body>");
        foreach (var block in blocks)
        {
            switch (block)
            {
                case HeadingBlock h:
                    html.AppendLine($"<h{h.Level}>{E(h.Text)}</h{h.Level}>");
                    break;
                case ParagraphBlock p:
                    html.AppendLine(p.Emphasis ? $"<p class=\"verdict\">{E(p.Text)}</p>" : $"<p>{E(p.Text)}</p>");
                    break;
                case TableBlock t:
                    html.Append("<table><thead><tr>");
                    foreach (var header in t.Headers) html.Append($"<th>{E(header)}</th>");
                    html.AppendLine("</tr></thead><tbody>");
                    foreach (var row in t.Rows)
                        html.AppendLine("<tr>" + string.Concat(row.Select(c => $"<td>{E(c)}</td>")) + "</tr>");
                    html.AppendLine("</tbody></table>");
                    break;
                case ImageRowBlock images:
                    html.AppendLine("<div class=\"images\">");
                    foreach (var (path, caption) in images.Images)
                    {
                        var bytes = File.ReadAllBytes(Path.Combine(runDirectory, path));
                        html.AppendLine($"<figure><img alt=\"{E(caption)}\" src=\"data:image/png;base64,{Convert.ToBase64String(bytes)}\">" +
                                        $"<figcaption>{E(caption)}</figcaption></figure>");
                    }
                    html.AppendLine("</div>");
                    break;
                default:
                    throw new ArgumentException($"Unknown report block {block.GetType().Name}.", nameof(blocks));
            }
        }
        html.AppendLine("</body></html>");
        return html.ToString();
    }

    static string E(string text) => WebUtility.HtmlEncode(text);
}
