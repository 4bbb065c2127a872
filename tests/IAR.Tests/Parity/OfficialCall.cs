using System.Globalization;
using System.Text;

namespace IAR.Tests.Parity;

/// <summary>
/// One official call recorded in a case's <c>case.json["calls"]</c>, e.g.
/// <c>generate(model, labels, max_new_tokens=16, cfg_scale=2.0, top_k=1)</c>: its positional and keyword arguments as
/// Python literals (numbers, True/False/None, strings, tuples/lists) or names (an input tensor, the model).
/// A handler reads every argument it understands through <see cref="Take"/> and then calls <see cref="RequireAllRead"/>,
/// so an argument it does not know fails the case by name instead of being ignored.
/// </summary>
public sealed class OfficialCall
{
    readonly string source;
    readonly Dictionary<string, string> keywords;
    readonly HashSet<string> read = new(StringComparer.Ordinal);

    OfficialCall(string source, string function, IReadOnlyList<string> positional, Dictionary<string, string> keywords)
    {
        this.source = source;
        Function = function;
        Positional = positional;
        this.keywords = keywords;
    }

    public string Function { get; }

    /// <summary>Positional arguments as written (names or literals).</summary>
    public IReadOnlyList<string> Positional { get; }

    /// <summary>
    /// The first call of <paramref name="function"/> in <paramref name="text"/> (which may hold several statements,
    /// e.g. <c>var.eval(); var.autoregressive_infer_cfg(B=2, …)</c>).
    /// </summary>
    /// <exception cref="InvalidDataException">The text has no such call or its argument list does not parse.</exception>
    public static OfficialCall Find(string text, string function)
    {
        int at = -1;
        for (int from = 0; (at = text.IndexOf(function + "(", from, StringComparison.Ordinal)) >= 0; from = at + 1)
            if (at == 0 || !(char.IsLetterOrDigit(text[at - 1]) || text[at - 1] == '_')) break;
        if (at < 0) throw new InvalidDataException($"'{text}' has no call of {function}(…).");
        var arguments = SplitArguments(text, at + function.Length + 1);
        var positional = new List<string>();
        var keywords = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var argument in arguments)
        {
            int eq = KeywordEquals(argument);
            if (eq < 0)
            {
                if (keywords.Count > 0) throw new InvalidDataException($"'{text}': positional argument '{argument}' after keyword arguments.");
                positional.Add(argument);
            }
            else if (!keywords.TryAdd(argument[..eq].Trim(), argument[(eq + 1)..].Trim()))
                throw new InvalidDataException($"'{text}': keyword '{argument[..eq].Trim()}' is given twice.");
        }
        return new OfficialCall(text, function, positional, keywords);
    }

    /// <summary>Whether the call passes <paramref name="keyword"/>.</summary>
    public bool Has(string keyword) => keywords.ContainsKey(keyword);

    /// <summary>A keyword argument as written; marks it read. Null when the call does not pass it.</summary>
    public string? Take(string keyword)
    {
        read.Add(keyword);
        return keywords.TryGetValue(keyword, out var v) ? v : null;
    }

    public double TakeDouble(string keyword, double otherwise) => Take(keyword) is { } v ? Number(keyword, v) : otherwise;

    public int TakeInt(string keyword, int otherwise)
    {
        if (Take(keyword) is not { } v) return otherwise;
        double d = Number(keyword, v);
        if (d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue) throw Invalid(keyword, v, "an integer");
        return (int)d;
    }

    public bool TakeBool(string keyword, bool otherwise) => Take(keyword) switch
    {
        null => otherwise,
        "True" => true,
        "False" => false,
        var v => throw Invalid(keyword, v, "True or False"),
    };

    /// <summary>A keyword argument that names something (an input tensor); marks it read.</summary>
    public string? TakeName(string keyword)
    {
        if (Take(keyword) is not { } v) return null;
        if (!IsName(v)) throw Invalid(keyword, v, "a name");
        return v;
    }

    /// <summary>Positional argument <paramref name="index"/> as a name (an input tensor or the model).</summary>
    public string PositionalName(int index)
    {
        if (index >= Positional.Count) throw new InvalidDataException($"'{source}' has no positional argument {index + 1}.");
        var v = Positional[index];
        if (!IsName(v)) throw new InvalidDataException($"'{source}': positional argument {index + 1} '{v}' is not a name.");
        return v;
    }

    /// <summary>Fails naming every keyword argument the handler did not read: it would otherwise be silently ignored.</summary>
    public void RequireAllRead(string handler)
    {
        var unread = keywords.Keys.Where(k => !read.Contains(k)).Order(StringComparer.Ordinal).ToArray();
        if (unread.Length > 0)
            throw new InvalidDataException(
                $"The {handler} handler does not know argument(s) {string.Join(", ", unread)} of '{source}'; it reads {string.Join(", ", read.Order(StringComparer.Ordinal))}.");
    }

    public override string ToString() => source;

    double Number(string keyword, string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw Invalid(keyword, v, "a number");

    InvalidDataException Invalid(string keyword, string value, string accepted) =>
        new($"'{source}': {keyword}={value} is not {accepted}.");

    static bool IsName(string v) => v.Length > 0 && (char.IsLetter(v[0]) || v[0] == '_') && v.All(ch => char.IsLetterOrDigit(ch) || ch == '_' || ch == '.')
                                    && v is not ("True" or "False" or "None");

    /// <summary>Index of a top-level <c>=</c> that makes <paramref name="argument"/> a keyword argument, else -1.</summary>
    static int KeywordEquals(string argument)
    {
        int eq = argument.IndexOf('=');
        if (eq <= 0 || (eq + 1 < argument.Length && argument[eq + 1] == '=')) return -1;
        var key = argument[..eq].Trim();
        return IsName(key) && !key.Contains('.') ? eq : -1;
    }

    /// <summary>The comma-separated arguments from <paramref name="start"/> (just after "(") to the matching ")".</summary>
    static List<string> SplitArguments(string text, int start)
    {
        var arguments = new List<string>();
        var current = new StringBuilder();
        int depth = 0;
        char quote = '\0';
        for (int i = start; i < text.Length; i++)
        {
            char ch = text[i];
            if (quote != '\0')
            {
                current.Append(ch);
                if (ch == '\\' && i + 1 < text.Length) current.Append(text[++i]);
                else if (ch == quote) quote = '\0';
                continue;
            }
            switch (ch)
            {
                case '\'' or '"':
                    quote = ch;
                    break;
                case '(' or '[' or '{':
                    depth++;
                    break;
                case ')' or ']' or '}' when depth > 0:
                    depth--;
                    break;
                case ')':
                    if (current.ToString().Trim() is { Length: > 0 } last) arguments.Add(last);
                    return arguments;
                case ',' when depth == 0:
                    arguments.Add(current.ToString().Trim());
                    current.Clear();
                    continue;
            }
            current.Append(ch);
        }
        throw new InvalidDataException($"'{text}': the argument list starting at column {start} is not closed.");
    }
}
