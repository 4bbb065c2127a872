using System.Globalization;
using System.Text;
using IAR.Host.Serialization;
using ScottPlot;

namespace IAR.Host.Analysis;

/// <summary>
/// The files of <c>iar analyze codebook</c>: <c>code-distance.csv</c>, <c>code-distance.md</c> (the table with what was
/// measured) and <c>code-distance.png</c> (PSNR against code distance, one line per replacement).
/// </summary>
public static class CodeDistanceReport
{
    public const string CsvFile = "code-distance.csv";
    public const string MarkdownFile = "code-distance.md";
    public const string PlotFile = "code-distance.png";

    /// <summary>Writes the three files atomically into <paramref name="folder"/> and returns their paths.</summary>
    /// <param name="title">The plot's title.</param>
    /// <param name="described">What was measured (tokenizer, images, clusters), the first lines of the Markdown file.</param>
    public static IReadOnlyList<string> Write(string folder, IReadOnlyList<CodeDistanceRow> rows, string title, string described)
    {
        Directory.CreateDirectory(folder);
        var csv = Path.Combine(folder, CsvFile);
        var markdown = Path.Combine(folder, MarkdownFile);
        var plot = Path.Combine(folder, PlotFile);
        AtomicFile.WriteAllText(csv, Csv(rows));
        AtomicFile.WriteAllText(markdown, $"# Code distance vs reconstruction\n\n{described}\n\n{Markdown(rows)}");
        var png = Plot(rows, title);
        AtomicFile.Write(plot, s => s.Write(png));
        return [csv, markdown, plot];
    }

    /// <summary>The rows as CSV (invariant culture): replacement, rank, code_distance, mse, psnr_db.</summary>
    public static string Csv(IReadOnlyList<CodeDistanceRow> rows)
    {
        var text = new StringBuilder("replacement,rank,code_distance,mse,psnr_db\n");
        foreach (var r in rows)
            text.Append(string.Create(CultureInfo.InvariantCulture, $"{Name(r.Replacement)},{r.Rank},{r.CodeDistance:R},{r.Mse:R},{r.Psnr:R}\n"));
        return text.ToString();
    }

    /// <summary>A Markdown table of the rows.</summary>
    public static string Markdown(IReadOnlyList<CodeDistanceRow> rows)
    {
        var text = new StringBuilder("| replacement | rank k | code distance² | MSE vs reconstruction | PSNR vs reconstruction (dB) |\n|---|---:|---:|---:|---:|\n");
        foreach (var r in rows)
            text.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {Name(r.Replacement)} | {(r.Rank > 0 ? r.Rank.ToString(CultureInfo.InvariantCulture) : "–")} | {r.CodeDistance:F4} | {r.Mse:F5} | {r.Psnr:F2} |\n"));
        return text.ToString();
    }

    /// <summary>PSNR against mean squared code distance: a line per ranked replacement, a marker per random one.</summary>
    public static byte[] Plot(IReadOnlyList<CodeDistanceRow> rows, string title)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int colour = 0;
        foreach (var group in rows.GroupBy(r => r.Replacement))
        {
            var points = group.ToArray();
            var line = plot.Add.Scatter(points.Select(r => r.CodeDistance).ToArray(), points.Select(r => r.Psnr).ToArray(), palette.GetColor(colour++));
            line.LegendText = points.Length > 1 ? $"{Name(group.Key)} (rank {points[0].Rank} … {points[^1].Rank})" : Name(group.Key);
            line.LineWidth = points.Length > 1 ? 2 : 0;
            line.MarkerSize = 8;
        }
        plot.Title(title);
        plot.XLabel("mean squared distance between replaced and replacing code");
        plot.YLabel("PSNR vs reconstruction (dB)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(800, 450, ImageFormat.Png);
    }

    /// <summary>The spelling in files: <c>nearest-in-cluster</c>.</summary>
    public static string Name(Replacement replacement) => replacement switch
    {
        Replacement.Nearest => "nearest",
        Replacement.NearestInCluster => "nearest-in-cluster",
        Replacement.RandomInCluster => "random-in-cluster",
        Replacement.Random => "random",
        _ => throw new ArgumentOutOfRangeException(nameof(replacement)),
    };
}
