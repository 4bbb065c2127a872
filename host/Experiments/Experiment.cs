using IAR.Host.Configuration;
using IAR.Abstractions;

namespace IAR.Host.Experiments;

/// <summary>One arm of an ablation: a name and the experiment spec with the arm's overlay applied.</summary>
public sealed record ArmPlan(string Name, ExperimentSpec Spec);

/// <summary>A validated experiment: the base spec, its arms, and the fully resolved YAML written into run directories.</summary>
/// <param name="SourceFile">The YAML file it was loaded from (full path).</param>
/// <param name="Spec">The base spec (overrides applied).</param>
/// <param name="Arms">At least one arm; without <c>arms:</c>, one arm named after whether IAR is on.</param>
/// <param name="ResolvedYaml">Every key with its value, paths absolute, arms fully written out.</param>
/// <param name="Locator">Locates keys of the file, for errors found after binding (e.g. an unknown preset).</param>
public sealed record Experiment(
    string SourceFile, ExperimentSpec Spec, IReadOnlyList<ArmPlan> Arms, string ResolvedYaml, KeyLocator Locator)
{
    /// <summary>The key path of a section of an arm: the arm's own key if the arm sets it, else the base key.</summary>
    public string KeyOf(ArmPlan arm, string section) =>
        Arms.Count > 1 && ArmIndex(arm) is int i && ArmSetsSection(i, section) ? $"arms.{i}.{section}" : section;

    /// <exception cref="ConfigurationException">The experiment has no arm of that name (the known ones are listed).</exception>
    public ArmPlan Arm(string name) =>
        Arms.FirstOrDefault(a => a.Name == name)
        ?? throw new ConfigurationException($"{SourceFile} has no arm '{name}'; its arms are {string.Join(", ", Arms.Select(a => a.Name))}.");

    int? ArmIndex(ArmPlan arm)
    {
        for (int i = 0; i < Arms.Count; i++) if (ReferenceEquals(Arms[i], arm)) return i;
        return null;
    }

    bool ArmSetsSection(int index, string section) => ArmSections.TryGetValue(index, out var s) && s.Contains(section);

    /// <summary>For each arm index, the sections its overlay sets.</summary>
    public IReadOnlyDictionary<int, IReadOnlySet<string>> ArmSections { get; init; } = new Dictionary<int, IReadOnlySet<string>>();
}
