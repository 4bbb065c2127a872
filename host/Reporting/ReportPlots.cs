using IAR.Host.Serialization;
using ScottPlot;

namespace IAR.Host.Reporting;

/// <summary>PNG line plots (ScottPlot 5) of a metric against training step, one line per arm with its seed band.</summary>
public static class ReportPlots
{
    public const int Width = 800;
    public const int Height = 450;

    /// <summary>Writes the plot atomically as a PNG.</summary>
    /// <param name="series">Per arm: its curve (mean over seeds, with min–max band where several seeds logged).</param>
    /// <param name="target">An optional dashed horizontal reference line and its legend text.</param>
    /// <param name="floor">An optional horizontal band with a dotted line (the FID noise floor).</param>
    public static void WriteCurves(string path, string title, string yLabel,
        IReadOnlyList<(string Arm, IReadOnlyList<CurvePoint> Curve)> series, (double Value, string Label)? target = null, FloorBand? floor = null)
    {
        var png = Curves(title, yLabel, series, target, floor);
        AtomicFile.Write(path, s => s.Write(png));
    }

    public static byte[] Curves(string title, string yLabel, IReadOnlyList<(string Arm, IReadOnlyList<CurvePoint> Curve)> series,
        (double Value, string Label)? target = null, FloorBand? floor = null)
    {
        var plot = new Plot();
        if (floor is not null && series.SelectMany(s => s.Curve).Select(p => (double)p.Step).ToArray() is { Length: > 0 } allSteps)
        {
            // Drawn first so the arms' curves lie on top; spans the steps the curves cover.
            double[] ends = [allSteps.Min(), allSteps.Max()];
            var band = plot.Add.FillY(ends, [floor.Low, floor.Low], [floor.High, floor.High]);
            band.FillColor = Colors.Black.WithAlpha(0.12);
            band.LineColor = Colors.Transparent;
            var line = plot.Add.HorizontalLine(floor.Value);
            line.LinePattern = LinePattern.Dotted;
            line.Color = Colors.Black;
            line.LegendText = floor.Label;
        }
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var (arm, curve) = series[i];
            if (curve.Count == 0) continue;
            var color = palette.GetColor(i);
            double[] steps = curve.Select(p => (double)p.Step).ToArray();
            if (curve.Any(p => p.Value.Count > 1))
            {
                var band = plot.Add.FillY(steps, curve.Select(p => p.Value.Min).ToArray(), curve.Select(p => p.Value.Max).ToArray());
                band.FillColor = color.WithAlpha(0.2);
                band.LineColor = Colors.Transparent;
            }
            var line = plot.Add.Scatter(steps, curve.Select(p => p.Value.Mean).ToArray(), color);
            int seeds = curve.Max(p => p.Value.Count);
            line.LegendText = seeds > 1 ? $"{arm} (mean of {seeds} seeds, band = min–max)" : arm;
            line.LineWidth = 2;
            line.MarkerSize = curve.Count <= 40 ? 6 : 0;
        }
        if (target is var (value, label))
        {
            var reference = plot.Add.HorizontalLine(value);
            reference.LinePattern = LinePattern.Dashed;
            reference.Color = Colors.Gray;
            reference.LegendText = label;
        }
        plot.Title(title);
        plot.XLabel("generator training step");
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}

/// <summary>A horizontal band on a plot: its centre line, extent and legend text (the FID noise floor).</summary>
public sealed record FloorBand(double Value, double Low, double High, string Label);
