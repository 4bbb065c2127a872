using IAR.Host.Configuration;
using System.ComponentModel;
using System.Reflection;
using System.Text;

namespace IAR.Host.Experiments;

/// <summary>The experiment schema as rows (key, type, default, description), generated from the spec records.</summary>
public static class SchemaDocumentation
{
    public sealed record Row(string Key, string Type, string Default, string Description);

    public static IReadOnlyList<Row> Rows()
    {
        var rows = new List<Row>();
        Walk(typeof(ExperimentSpec), new ExperimentSpec(), "", rows);
        rows.Add(new Row("arms", "list", "[]",
            $"ablation arms: each `{{name: …}}` plus overlays of {string.Join(", ", ExperimentLoader.ArmSections)}"));
        rows.Add(new Row($"{ArmSweep.Key}.grid", "mapping", "{}",
            "arms from every combination of these keys' values, e.g. `{iar.lambda: [0.5, 2], training.lr: [1e-3, 3e-4]}` (any key an arm may set); " +
            "named by the values (`lambda-0.5_lr-0.001`); command line: `--sweep KEY=V1,V2`"));
        rows.Add(new Row($"{ArmSweep.Key}.zip", "mapping", "{}",
            "as grid, but the i-th values of every list go together (equal lengths); with a grid, grid × zip; command line: `--sweep … --zip`"));
        rows.Add(new Row($"{ArmSweep.Key}.arms", "a list of string", "all arms",
            "the arms under `arms:` the sweep multiplies (`<arm>_<point>`); the others stay as written; without `arms:` the points alone are the arms"));
        return rows;
    }

    static void Walk(Type type, object defaults, string prefix, List<Row> rows)
    {
        foreach (var (key, property) in SpecSchema.Keys(type))
        {
            var full = prefix + key;
            var value = property.GetValue(defaults);
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var description = property.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "";
            if (SpecSchema.IsSection(propertyType) && value is not null)
            {
                if (description.Length > 0) rows.Add(new Row(full, "section", "", description));
                Walk(propertyType, value, full + ".", rows);
                continue;
            }
            var required = property.GetCustomAttribute<RequiredKeyAttribute>() is not null;
            rows.Add(new Row(full, SpecSchema.Describe(property.PropertyType).Replace("a mapping of option names to values", "mapping"),
                required ? "(required)" : Format(value), description));
        }
    }

    static string Format(object? value) => value switch
    {
        null => "null",
        string s => s.Length == 0 ? "\"\"" : s,
        bool b => b ? "true" : "false",
        Enum e => SpecSchema.EnumValue(e),
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        IReadOnlyDictionary<string, string> m => m.Count == 0 ? "{}" : string.Join(", ", m.Select(kv => $"{kv.Key}: {kv.Value}")),
        IReadOnlyDictionary<string, double> m => m.Count == 0 ? "{}" : string.Join(", ", m.Select(kv => $"{kv.Key}: {Format(kv.Value)}")),
        System.Collections.IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(Format)) + "]",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public static string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| key | type | default | meaning |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var r in Rows())
            sb.AppendLine($"| `{r.Key}` | {r.Type.Replace("|", "\\|")} | {(r.Default.Length == 0 ? "" : $"`{r.Default}`")} | {r.Description.Replace("|", "\\|")} |");
        return sb.ToString();
    }
}
