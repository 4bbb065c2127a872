using IAR.Abstractions;

namespace IAR.Host.Experiments;

/// <summary>Every problem found in one configuration, reported together.</summary>
public sealed class ConfigValidationException(IReadOnlyList<ConfigError> errors)
    : ConfigurationException(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
