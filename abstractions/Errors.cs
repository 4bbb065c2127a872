namespace IAR.Abstractions;

/// <summary>
/// A user mistake in configuration or arguments: an unknown option, a value out of range, sizes that do not fit.
/// The message is one sentence that names the key or value and says what would be accepted; the CLI prints it
/// without a stack trace and exits with code 2.
/// </summary>
public class ConfigurationException : Exception
{
    public ConfigurationException(string message) : base(message) { }

    public ConfigurationException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A run stopped for a reason the user must see (diverged loss, bad data, a rank that died); the message says what and
/// what was kept. The CLI prints it without a stack trace and exits with code 1.
/// </summary>
public sealed class RunFailedException(string message, Exception? inner = null) : Exception(message, inner);
