namespace IAR.Host.Reporting;

/// <summary>A piece of the report, rendered both as Markdown and as self-contained HTML (a closed union: the cases below).</summary>
public abstract record ReportBlock;

/// <param name="Level">1 = title, 2 = section.</param>
public sealed record HeadingBlock(int Level, string Text) : ReportBlock;

/// <param name="Text">Plain text (escaped by each renderer).</param>
/// <param name="Emphasis">Rendered bold / highlighted: the report's answer.</param>
public sealed record ParagraphBlock(string Text, bool Emphasis = false) : ReportBlock;

/// <summary>A table of plain-text cells; the first column is a row header.</summary>
public sealed record TableBlock(IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows) : ReportBlock;

/// <summary>PNG images shown side by side, each with a caption; paths relative to the run directory.</summary>
public sealed record ImageRowBlock(IReadOnlyList<(string RelativePath, string Caption)> Images) : ReportBlock;
