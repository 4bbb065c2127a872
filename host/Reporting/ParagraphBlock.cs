namespace IAR.Host.Reporting;

/// <param name="Text">Plain text (escaped by each renderer).</param>
/// <param name="Emphasis">Rendered bold / highlighted: the report's answer.</param>
public sealed record ParagraphBlock(string Text, bool Emphasis = false) : ReportBlock;
