using IAR.Abstractions;

namespace IAR.Host.Configuration;

/// <summary>One problem in a configuration, located in its file (or in a command-line override).</summary>
/// <param name="Source">The YAML file, or <c>override 'key=value'</c>.</param>
/// <param name="Line">1-based line, 0 when unknown.</param>
/// <param name="Column">1-based column, 0 when unknown.</param>
/// <param name="Message">One sentence: what is wrong and what is accepted.</param>
public sealed record ConfigError(string Source, int Line, int Column, string Message)
{
    public override string ToString() => Line > 0 ? $"{Source}:{Line}:{Column}: {Message}" : $"{Source}: {Message}";
}

/// <summary>Every problem found in one configuration, reported together.</summary>
public sealed class ConfigValidationException(IReadOnlyList<ConfigError> errors)
    : ConfigurationException(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
