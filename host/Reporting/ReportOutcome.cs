namespace IAR.Host.Reporting;

/// <summary>What <see cref="RunReport.Build"/> wrote and concluded.</summary>
/// <param name="Verdict">The report's one-line answer to "did IAR help?".</param>
/// <param name="Comparisons">Each arm with FID against the baseline (the baseline itself included).</param>
public sealed record ReportOutcome(
    string MarkdownPath, string HtmlPath, IReadOnlyList<string> Plots, string Verdict, IReadOnlyList<ArmComparison> Comparisons);
