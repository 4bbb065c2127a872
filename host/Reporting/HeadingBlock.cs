namespace IAR.Host.Reporting;

/// <param name="Level">1 = title, 2 = section.</param>
public sealed record HeadingBlock(int Level, string Text) : ReportBlock;
