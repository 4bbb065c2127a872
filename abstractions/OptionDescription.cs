namespace IAR.Abstractions;

/// <summary>One option of a preset: its YAML key, its type and its value.</summary>
public sealed record OptionDescription(string Key, string Type, string Value);
