namespace IAR.Host.Reporting;

/// <summary>A piece of the report, rendered both as Markdown and as self-contained HTML.</summary>
public abstract record ReportBlock;
