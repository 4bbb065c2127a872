namespace IAR.Host.Reporting;

/// <summary>One step of a metric curve of an arm, summarised over the seeds that logged it.</summary>
public sealed record CurvePoint(long Step, SeedSummary Value);
