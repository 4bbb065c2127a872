namespace IAR.Host.Reporting;

/// <summary>One metrics.jsonl record reduced to what the report plots: who, when, and every numeric value by key.</summary>
public sealed record MetricPoint(string Arm, int Seed, long Step, IReadOnlyDictionary<string, double> Values);
