using IAR.Abstractions;

namespace IAR.Host.Configuration;

/// <summary>A command-line override: <c>key.sub=value</c> sets a value (parsed as YAML), <c>~key.sub</c> deletes a key.</summary>
public sealed record ConfigOverride(string Text, IReadOnlyList<string> Path, string? Value)
{
    public bool IsDelete => Value is null;

    /// <exception cref="ConfigurationException">The text is neither form.</exception>
    public static ConfigOverride Parse(string text)
    {
        if (text.StartsWith('~'))
        {
            var key = text[1..];
            if (key.Length == 0 || key.Contains('='))
                throw new ConfigurationException($"Override '{text}' is invalid; '~key.sub' deletes a key.");
            return new ConfigOverride(text, Split(key, text), null);
        }
        int eq = text.IndexOf('=');
        if (eq <= 0)
            throw new ConfigurationException($"Override '{text}' is invalid; 'key.sub=value' sets a value and '~key.sub' deletes one.");
        return new ConfigOverride(text, Split(text[..eq], text), text[(eq + 1)..]);
    }

    static string[] Split(string key, string text)
    {
        var parts = key.Split('.');
        if (parts.Any(p => p.Length == 0))
            throw new ConfigurationException($"Override '{text}' has an empty key segment; keys look like 'training.lr'.");
        return parts;
    }
}
