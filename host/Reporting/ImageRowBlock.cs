namespace IAR.Host.Reporting;

/// <summary>PNG images shown side by side, each with a caption; paths relative to the run directory.</summary>
public sealed record ImageRowBlock(IReadOnlyList<(string RelativePath, string Caption)> Images) : ReportBlock;
