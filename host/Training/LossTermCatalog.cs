using System.Reflection;
using IAR.Abstractions;

namespace IAR.Host.Training;

/// <summary>
/// The extra loss terms an experiment can name under <c>training.loss</c>: every public, non-abstract
/// <see cref="ILossTerm"/> with a parameterless constructor in the host (e.g. <see cref="ZLoss"/>) or in a loaded
/// plugin's assembly, by its <see cref="ILossTerm.Name"/>. Token CE and cluster CE have their own keys
/// (<c>training.label_smoothing</c>, <c>iar.*</c>) and constructor arguments, so they are not among them.
/// </summary>
public sealed class LossTermCatalog
{
    readonly IReadOnlyDictionary<string, Type> terms;

    LossTermCatalog(IReadOnlyDictionary<string, Type> terms) => this.terms = terms;

    /// <summary>The host's terms only (no plugin loaded).</summary>
    public static LossTermCatalog BuiltIn { get; } = From([]);

    /// <param name="pluginTypes">The exported types of the loaded plugins' assemblies.</param>
    /// <exception cref="ConfigurationException">Two terms share a name.</exception>
    public static LossTermCatalog From(IEnumerable<Type> pluginTypes)
    {
        var found = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var type in typeof(LossTermCatalog).Assembly.GetExportedTypes().Concat(pluginTypes))
        {
            if (!typeof(ILossTerm).IsAssignableFrom(type) || type.IsAbstract || type.IsInterface || type.GetConstructor(Type.EmptyTypes) is null)
                continue;
            var name = ((ILossTerm)Activator.CreateInstance(type)!).Name;
            if (found.TryGetValue(name, out var other) && other != type)
                throw new ConfigurationException($"Two loss terms are named '{name}': {other.FullName} ({other.Assembly.GetName().Name}) and {type.FullName} ({type.Assembly.GetName().Name}); rename one.");
            found[name] = type;
        }
        return new LossTermCatalog(found);
    }

    public IReadOnlyCollection<string> Names => terms.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <exception cref="ConfigurationException">No term of that name (the available ones are listed).</exception>
    public ILossTerm Create(string name) => terms.TryGetValue(name, out var type)
        ? (ILossTerm)Activator.CreateInstance(type)!
        : throw new ConfigurationException(
            $"training.loss names '{name}', which is no loss term; accepted: {(terms.Count == 0 ? "none" : string.Join(", ", Names))} " +
            "(token CE and IAR's cluster CE are always there: training.label_smoothing and iar.lambda set them).");
}
