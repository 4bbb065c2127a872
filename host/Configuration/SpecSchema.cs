using System.Reflection;
using IAR.Abstractions;

namespace IAR.Host.Configuration;

/// <summary>Reflection over the spec records: their YAML keys (snake_case property names) and value kinds.</summary>
public static class SpecSchema
{
    /// <summary>The YAML-settable properties of a section record, by snake_case key, in declaration order.</summary>
    public static IReadOnlyList<(string Key, PropertyInfo Property)> Keys(Type section) =>
        section.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetSetMethod() is not null && p.Name != "EqualityContract")
            .OrderBy(p => p.MetadataToken)
            .Select(p => (PresetOptions.SnakeCase(p.Name), p))
            .ToArray();

    /// <summary>A nested section (a record with keys of its own), as opposed to a scalar, list or options map.</summary>
    public static bool IsSection(Type t) =>
        t.IsClass && t != typeof(string) && !IsList(t, out _) && !IsOptionsMap(t) && t.GetConstructor(Type.EmptyTypes) is not null;

    public static bool IsList(Type t, out Type element)
    {
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            element = t.GetGenericArguments()[0];
            return true;
        }
        element = typeof(void);
        return false;
    }

    /// <summary>A mapping of free keys to values: plugin options (strings, checked by the plugin) or named weights (numbers).</summary>
    public static bool IsOptionsMap(Type t) => t == typeof(IReadOnlyDictionary<string, string>) || t == typeof(IReadOnlyDictionary<string, double>);

    /// <summary>The YAML spelling of an enum value: <c>BalancedKmeans</c> → <c>balanced-kmeans</c>.</summary>
    public static string EnumValue(Enum value) => PresetOptions.SnakeCase(value.ToString()).Replace('_', '-');

    public static IEnumerable<string> EnumValues(Type enumType) =>
        Enum.GetValues(enumType).Cast<Enum>().Select(EnumValue);

    /// <summary>Human name of a value type for messages: integer, number, boolean, one of a | b.</summary>
    public static string Describe(Type t)
    {
        var u = Nullable.GetUnderlyingType(t);
        if (u is not null) return Describe(u) + " or null";
        if (t == typeof(int) || t == typeof(long)) return "an integer";
        if (t == typeof(double)) return "a number";
        if (t == typeof(bool)) return "true or false";
        if (t == typeof(string)) return "a string";
        if (t.IsEnum) return "one of " + string.Join(" | ", EnumValues(t));
        if (IsList(t, out var e)) return "a list of " + Describe(e).Replace("an ", "").Replace("a ", "");
        if (t == typeof(IReadOnlyDictionary<string, double>)) return "a mapping of names to numbers";
        if (IsOptionsMap(t)) return "a mapping of option names to values";
        return "a mapping";
    }
}

/// <summary>A section of the experiment schema that checks its own values after binding.</summary>
public interface ISpecSection
{
    /// <summary>Problems as (snake_case key, one-sentence message); empty when the section is valid.</summary>
    IEnumerable<(string Key, string Message)> Validate();
}

/// <summary>The key must be present in the YAML.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredKeyAttribute : Attribute;

/// <summary>
/// The value is a file-system path: relative paths in a YAML file are resolved against the file's folder,
/// relative paths given on the command line against the working directory.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PathValueAttribute : Attribute;
