namespace IAR.Host.Experiments;

/// <summary>A run stopped for a reason the user must see (diverged loss, bad data); the message says what and what was kept.</summary>
public sealed class RunFailedException(string message, Exception? inner = null) : Exception(message, inner);
