using System.Globalization;
using System.Reflection;
using System.Text;

namespace IAR.Abstractions;

/// <summary>
/// Strict, typed overrides of a preset's options record (a C# record with settable or init properties).
/// YAML keys are the snake_case property names; an unknown key or a value of the wrong type is a
/// <see cref="ConfigurationException"/> that lists what is accepted. Lists are written <c>1,2,2,4</c> or <c>[1, 2]</c>.
/// </summary>
public static class PresetOptions
{
    /// <summary>A copy of <paramref name="preset"/> with <paramref name="overrides"/> applied.</summary>
    /// <param name="context">Where the overrides come from, for messages, e.g. <c>generator.options</c>.</param>
    public static T Apply<T>(T preset, IReadOnlyDictionary<string, string> overrides, string context) where T : class
    {
        var type = preset.GetType();
        var clone = type.GetMethod("<Clone>$")
            ?? throw new InvalidOperationException($"{type.Name} must be a record so that presets can be copied.");
        var copy = (T)clone.Invoke(preset, null)!;
        var properties = Settable(type).ToDictionary(p => SnakeCase(p.Name), StringComparer.Ordinal);
        foreach (var (key, text) in overrides)
        {
            if (!properties.TryGetValue(key, out var property))
                throw new ConfigurationException(
                    $"{context}.{key} is not an option of {type.Name}; accepted: {string.Join(", ", properties.Keys)}.");
            property.SetValue(copy, Parse(text, property.PropertyType, $"{context}.{key}"));
        }
        return copy;
    }

    /// <summary>Every option of an options record with its current value, in declaration order.</summary>
    public static IReadOnlyList<OptionDescription> Describe(object options) =>
        Settable(options.GetType())
            .Select(p => new OptionDescription(SnakeCase(p.Name), TypeName(p.PropertyType), Format(p.GetValue(options))))
            .ToArray();

    /// <summary><c>ChMult</c> → <c>ch_mult</c>, <c>NumResBlocks</c> → <c>num_res_blocks</c>, <c>DimHeads</c> → <c>dim_heads</c>.</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool boundary = i > 0 && char.IsUpper(c) &&
                            (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) ||
                             (i + 1 < name.Length && char.IsLower(name[i + 1])));
            if (boundary) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>Parses one scalar or list value to <paramref name="type"/>, or throws naming <paramref name="where"/>.</summary>
    public static object? Parse(string text, Type type, string where)
    {
        var trimmed = text.Trim();
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null || !type.IsValueType)
        {
            if (trimmed is "null" or "~" or "") return type == typeof(string) && trimmed == "" ? "" : null;
        }
        var target = underlying ?? type;
        var element = ElementType(target);
        if (element is not null)
        {
            var inner = trimmed.TrimStart('[').TrimEnd(']');
            var parts = inner.Length == 0 ? [] : inner.Split(',');
            var array = Array.CreateInstance(element, parts.Length);
            for (int i = 0; i < parts.Length; i++) array.SetValue(ParseScalar(parts[i].Trim(), element, where), i);
            return array;
        }
        return ParseScalar(trimmed, target, where);
    }

    static object ParseScalar(string text, Type type, string where)
    {
        bool ok;
        object? value;
        if (type == typeof(string)) return text;
        if (type == typeof(int)) { ok = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v); value = v; }
        else if (type == typeof(long)) { ok = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v); value = v; }
        else if (type == typeof(double)) { ok = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v); value = v; }
        else if (type == typeof(float)) { ok = float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v); value = v; }
        else if (type == typeof(bool)) { ok = bool.TryParse(text, out var v); value = v; }
        else if (type.IsEnum)
        {
            var match = Enum.GetNames(type).FirstOrDefault(n =>
                string.Equals(n, text.Replace("-", "").Replace("_", ""), StringComparison.OrdinalIgnoreCase) ||
                string.Equals(SnakeCase(n).Replace('_', '-'), text, StringComparison.OrdinalIgnoreCase));
            if (match is null)
                throw new ConfigurationException(
                    $"{where} = '{text}' is invalid; accepted: {string.Join(", ", Enum.GetNames(type).Select(n => SnakeCase(n).Replace('_', '-')))}.");
            return Enum.Parse(type, match);
        }
        else throw new InvalidOperationException($"Options of type {type.Name} are not supported ({where}).");
        if (!ok) throw new ConfigurationException($"{where} = '{text}' is not a valid {TypeName(type)}.");
        return value!;
    }

    static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetSetMethod() is not null && p.Name != "EqualityContract")
            .OrderBy(p => p.MetadataToken);

    static Type? ElementType(Type t)
    {
        if (t.IsArray) return t.GetElementType();
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>)) return t.GetGenericArguments()[0];
        return null;
    }

    static string TypeName(Type t)
    {
        var u = Nullable.GetUnderlyingType(t);
        if (u is not null) return TypeName(u) + "?";
        var e = ElementType(t);
        if (e is not null) return $"list of {TypeName(e)}";
        if (t == typeof(int) || t == typeof(long)) return "integer";
        if (t == typeof(double) || t == typeof(float)) return "number";
        if (t == typeof(bool)) return "boolean";
        if (t.IsEnum) return string.Join("|", Enum.GetNames(t).Select(n => SnakeCase(n).Replace('_', '-')));
        return t.Name.ToLowerInvariant();
    }

    static string Format(object? value) => value switch
    {
        null => "null",
        string s => s,
        bool b => b ? "true" : "false",
        Enum e => SnakeCase(e.ToString()).Replace('_', '-'),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(Format)) + "]",
        _ => value.ToString() ?? "",
    };
}
