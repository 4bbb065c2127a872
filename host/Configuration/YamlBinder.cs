using System.Globalization;
using System.Reflection;
using YamlDotNet.RepresentationModel;

namespace IAR.Host.Configuration;

/// <summary>
/// Binds a YAML node tree to the spec records, collecting every error (unknown key, wrong type, missing key,
/// invalid value) with its location instead of stopping at the first.
/// </summary>
public sealed class YamlBinder(NodeOrigins origins)
{
    readonly List<ConfigError> errors = [];
    readonly NullabilityInfoContext nullability = new();

    public IReadOnlyList<ConfigError> Errors => errors;

    public T BindSection<T>(YamlMappingNode node, string path) where T : new() =>
        (T)(BindSection(node, typeof(T), path) ?? new T());

    object? BindSection(YamlNode node, Type type, string path)
    {
        if (node is not YamlMappingNode mapping)
        {
            if (IsNull(node)) return Activator.CreateInstance(type);
            Fail(node, $"{Label(path)} must be a mapping of keys to values.");
            return null;
        }
        var instance = Activator.CreateInstance(type)!;
        var keys = SpecSchema.Keys(type).ToDictionary(k => k.Key, k => k.Property, StringComparer.Ordinal);
        var seen = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        int errorsBefore = errors.Count;
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!keys.TryGetValue(key, out var property))
            {
                Fail(keyNode, $"unknown key '{Join(path, key)}'; accepted{In(path)}: {string.Join(", ", keys.Keys)}.");
                continue;
            }
            seen[key] = valueNode;
            var value = Bind(valueNode, property, Join(path, key));
            if (value is Unbound) continue;
            property.SetValue(instance, value);
        }
        foreach (var (key, property) in keys)
            if (property.GetCustomAttribute<RequiredKeyAttribute>() is not null && !seen.ContainsKey(key))
                Fail(mapping, $"missing key '{Join(path, key)}' ({SpecSchema.Describe(property.PropertyType)}).");
        if (errors.Count == errorsBefore && instance is ISpecSection section)
            foreach (var (key, message) in section.Validate())
                Fail(seen.GetValueOrDefault(key) ?? mapping, path.Length == 0 ? message : $"{path}: {message}");
        return instance;
    }

    /// <summary>Marker for "an error was recorded; leave the default in place".</summary>
    sealed class Unbound;

    static readonly Unbound Failed = new();

    object? Bind(YamlNode node, PropertyInfo property, string path)
    {
        var type = property.PropertyType;
        bool nullable = Nullable.GetUnderlyingType(type) is not null ||
                        (!type.IsValueType && nullability.Create(property).WriteState == NullabilityState.Nullable);
        if (IsNull(node))
        {
            if (nullable) return null;
            if (SpecSchema.IsSection(type)) return Activator.CreateInstance(type);
            Fail(node, $"{Label(path)} cannot be null; {SpecSchema.Describe(type)} is accepted.");
            return Failed;
        }
        var value = BindValue(node, type, path);
        if (value is string s && property.GetCustomAttribute<PathValueAttribute>() is not null && s.Length > 0)
            return origins.ResolvePath(node, s);
        return value;
    }

    object? BindValue(YamlNode node, Type type, string path)
    {
        if (SpecSchema.IsSection(type)) return BindSection(node, type, path) ?? Failed;
        if (type == typeof(IReadOnlyDictionary<string, double>)) return BindWeights(node, path);
        if (SpecSchema.IsOptionsMap(type)) return BindOptions(node, path);
        if (SpecSchema.IsList(type, out var element))
        {
            if (node is not YamlSequenceNode sequence)
            {
                Fail(node, $"{Label(path)} must be a list ({SpecSchema.Describe(type)}).");
                return Failed;
            }
            var list = Array.CreateInstance(element, sequence.Children.Count);
            bool ok = true;
            for (int i = 0; i < sequence.Children.Count; i++)
            {
                var item = BindValue(sequence.Children[i], element, $"{path}[{i}]");
                if (item is Unbound) ok = false;
                else list.SetValue(item, i);
            }
            return ok ? list : Failed;
        }
        if (node is not YamlScalarNode scalar)
        {
            Fail(node, $"{Label(path)} must be {SpecSchema.Describe(type)}, not a {(node is YamlSequenceNode ? "list" : "mapping")}.");
            return Failed;
        }
        var parsed = ParseScalar(scalar.Value ?? "", Nullable.GetUnderlyingType(type) ?? type);
        if (parsed is null)
        {
            Fail(node, $"{Label(path)} = '{scalar.Value}' is invalid; {SpecSchema.Describe(type)} is accepted.");
            return Failed;
        }
        return parsed;
    }

    /// <summary>Plugin options: every value a string (a list joined with commas); the plugin checks them.</summary>
    object BindOptions(YamlNode node, string path) => BindMap<string>(node, path, "option names to values", (value, at) =>
        value switch
        {
            YamlScalarNode s => s.Value ?? "",
            YamlSequenceNode seq when seq.Children.All(c => c is YamlScalarNode) => string.Join(",", seq.Children.Cast<YamlScalarNode>().Select(c => c.Value)),
            _ => Fail(value, $"{Label(at)} must be a value or a list of values."),
        });

    /// <summary>Named weights (<c>training.loss</c>): every value a finite number.</summary>
    object BindWeights(YamlNode node, string path) => BindMap<double>(node, path, "names to numbers", (value, at) =>
        BindValue(value, typeof(double), at) is double weight ? weight : null);

    /// <summary>A mapping of free keys; <paramref name="bind"/> returns null after recording the value's error.</summary>
    object BindMap<T>(YamlNode node, string path, string what, Func<YamlNode, string, object?> bind)
    {
        if (node is not YamlMappingNode mapping)
        {
            Fail(node, $"{Label(path)} must be a mapping of {what}.");
            return Failed;
        }
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        bool ok = true;
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (bind(valueNode, Join(path, key)) is T value) map[key] = value;
            else ok = false;
        }
        return ok ? map : Failed;
    }

    /// <summary>The value, or null if the text is not of the type.</summary>
    public static object? ParseScalar(string text, Type type)
    {
        if (type == typeof(string)) return text;
        if (type == typeof(int))
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;
        if (type == typeof(long))
            return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;
        if (type == typeof(double))
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;
        if (type == typeof(bool))
            return text switch { "true" or "True" or "TRUE" => true, "false" or "False" or "FALSE" => false, _ => null };
        if (type.IsEnum)
            return Enum.GetValues(type).Cast<Enum>().FirstOrDefault(e =>
                string.Equals(SpecSchema.EnumValue(e), text, StringComparison.OrdinalIgnoreCase) ||
                string.Equals(SpecSchema.EnumValue(e).Replace("-", "_"), text, StringComparison.OrdinalIgnoreCase));
        throw new InvalidOperationException($"The spec uses an unsupported value type {type.Name}.");
    }

    static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: not (YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted) } s &&
        (s.Value is null or "" or "~" or "null" or "Null" or "NULL");

    /// <summary>Records the error; null, so that a binder can fail in an expression.</summary>
    object? Fail(YamlNode node, string message)
    {
        errors.Add(origins.Error(node, message));
        return null;
    }

    static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    static string Label(string path) => $"'{path}'";

    static string In(string path) => path.Length == 0 ? " at the top level" : $" in '{path}'";
}
