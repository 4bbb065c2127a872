namespace IAR.Host.Reporting;

/// <summary>A table of plain-text cells; the first column is a row header.</summary>
public sealed record TableBlock(IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows) : ReportBlock;
