using System.Text.Json;
using System.Text.Json.Serialization;

namespace IAR.Host.Experiments;

/// <summary>The content of a run's status.json.</summary>
public sealed record RunStatus(RunState State, string? Stage, string? Message, DateTimeOffset Updated)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = true,
    };
}
