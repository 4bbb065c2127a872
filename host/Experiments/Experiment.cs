using IAR.Host.Configuration;
using IAR.Abstractions;

namespace IAR.Host.Experiments;

/// <summary>One arm of an ablation: a name and the experiment spec with the arm's overlay (and sweep point) applied.</summary>
public sealed record ArmPlan(string Name, ExperimentSpec Spec)
{
    /// <summary>The name of the one arm of an experiment without <c>arms:</c> or <c>sweep:</c>.</summary>
    public static string DefaultName(ExperimentSpec spec) => spec.Iar.Enabled ? "iar" : "baseline";

    /// <summary>What the arm sets over the base settings, as written (its own sections, then its sweep values).</summary>
    public IReadOnlyList<ArmSetting> Settings { get; init; } = [];

    /// <summary>Section → the key path that sets it for this arm (<c>arms.1.iar</c>, <c>sweep.grid.iar</c>); absent: the base's.</summary>
    public IReadOnlyDictionary<string, string> SectionKeys { get; init; } = new Dictionary<string, string>();
}

/// <summary>A value an arm sets: <c>iar.lambda=0.5</c>.</summary>
public sealed record ArmSetting(string Key, string Value)
{
    public override string ToString() => $"{Key}={Value}";
}

/// <summary>A validated experiment: the base spec, its arms, and the fully resolved YAML written into run directories.</summary>
/// <param name="SourceFile">The YAML file it was loaded from (full path).</param>
/// <param name="Spec">The base spec (overrides applied).</param>
/// <param name="Arms">At least one arm (<c>arms:</c>, expanded by <c>sweep:</c>); without either, one arm named after whether IAR is on.</param>
/// <param name="ResolvedYaml">Every key with its value, paths absolute, arms fully written out (no sweep: left to expand).</param>
/// <param name="Locator">Locates keys of the file, for errors found after binding (e.g. an unknown preset).</param>
public sealed record Experiment(
    string SourceFile, ExperimentSpec Spec, IReadOnlyList<ArmPlan> Arms, string ResolvedYaml, KeyLocator Locator)
{
    /// <summary>The key path of a section of an arm: where the arm (or its sweep point) sets it, else the base key.</summary>
    public string KeyOf(ArmPlan arm, string section) => arm.SectionKeys.GetValueOrDefault(section, section);

    /// <exception cref="ConfigurationException">The experiment has no arm of that name (the known ones are listed).</exception>
    public ArmPlan Arm(string name) =>
        Arms.FirstOrDefault(a => a.Name == name)
        ?? throw new ConfigurationException($"{SourceFile} has no arm '{name}'; its arms are {string.Join(", ", Arms.Select(a => a.Name))}.");
}
