using System.Text.Json.Serialization;
using System.Text.Json;

namespace IAR.Host.Runs;

/// <summary>The content of a run's or a job's status.json.</summary>
/// <param name="Stage">The run's current step (<c>prepare</c>, a job id, <c>report</c>); null for a job.</param>
public sealed record RunStatus(RunState State, string? Stage, string? Message, DateTimeOffset Updated)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = true,
    };
}

public enum RunState
{
    Running,
    Complete,
    Failed,

    /// <summary>Stopped by SIGTERM or SIGINT after writing a checkpoint; the next call resumes from it.</summary>
    Interrupted,
}
