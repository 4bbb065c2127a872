using System.Reflection;
using IAR.Abstractions;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.DependencyInjection;
using TorchSharp;

using IAR.Host.Training;

namespace IAR.Host.Plugins;

/// <summary>
/// Every plugin of one or more plugin folders: <c>&lt;folder&gt;/&lt;Name&gt;/&lt;Name&gt;.dll</c>, each loaded with
/// McMaster.NETCore.Plugins into its own load context that shares the abstractions, TorchSharp and DI contracts with
/// the host (one TorchSharp per process). Adding a folder adds a plugin; the host is not rebuilt. Commands always
/// include the built-in plugins (<see cref="DefaultFolder"/>), so an author's folder holds only the author's plugin.
/// </summary>
public sealed class PluginCatalog
{
    /// <summary>Types whose assemblies the plugins must share with the host.</summary>
    static readonly Type[] SharedTypes = [typeof(IIarPlugin), typeof(torch), typeof(IServiceCollection)];

    PluginCatalog(IReadOnlyList<string> folders, IReadOnlyList<LoadedPlugin> plugins)
    {
        Folders = folders;
        Plugins = plugins;
        LossTerms = LossTermCatalog.From(plugins.SelectMany(p => p.LossTerms));
    }

    /// <summary>The plugin folders, full paths, in load order.</summary>
    public IReadOnlyList<string> Folders { get; }

    public IReadOnlyList<LoadedPlugin> Plugins { get; }

    /// <summary>The extra loss terms <c>training.loss</c> can name: the host's and the plugins'.</summary>
    public LossTermCatalog LossTerms { get; }

    /// <summary>The built-in plugins: <c>plugins/</c> beside the executable.</summary>
    public static string DefaultFolder => Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>
    /// The catalog a command works with: the built-in plugins plus <paramref name="optionFolders"/> (<c>--plugins</c>,
    /// repeatable) or, when none are given, the experiment's <c>plugins:</c> folder.
    /// </summary>
    /// <exception cref="ConfigurationException">As <see cref="Load(IEnumerable{string})"/>.</exception>
    public static PluginCatalog ForCommand(IReadOnlyList<string>? optionFolders, string? experimentFolder = null)
    {
        IEnumerable<string> extra = optionFolders is { Count: > 0 } ? optionFolders : experimentFolder is null ? [] : [experimentFolder];
        // A host published without built-ins still works with the folders it is given.
        var builtIn = Directory.Exists(DefaultFolder) || !extra.Any() ? [DefaultFolder] : Array.Empty<string>();
        return Load([.. builtIn, .. extra]);
    }

    /// <summary>Exactly the plugins of <paramref name="folder"/> (no built-ins).</summary>
    /// <exception cref="ConfigurationException">As <see cref="Load(IEnumerable{string})"/>.</exception>
    public static PluginCatalog Load(string folder) => Load([folder]);

    /// <summary>Exactly the plugins of <paramref name="folders"/> (no built-ins unless listed); a folder listed twice loads once.</summary>
    /// <exception cref="ConfigurationException">
    /// A folder is missing or empty, a folder has no plugin dll, a dll is not a plugin, or two plugins share a name.
    /// </exception>
    public static PluginCatalog Load(IEnumerable<string> folders)
    {
        var fulls = folders.Select(f => Path.GetFullPath(f).TrimEnd(Path.DirectorySeparatorChar)).Distinct(StringComparer.Ordinal).ToList();
        var plugins = new List<LoadedPlugin>();
        foreach (var full in fulls)
        {
            if (!Directory.Exists(full))
                throw new ConfigurationException($"Plugin folder '{full}' does not exist; build the solution, or pass --plugins DIR or set 'plugins:' in the YAML.");
            var dirs = Directory.GetDirectories(full).Order(StringComparer.Ordinal).ToList();
            if (dirs.Count == 0)
                throw new ConfigurationException($"Plugin folder '{full}' is empty; it should hold one sub-folder per plugin, each with <Name>/<Name>.dll.");
            foreach (var dir in dirs)
            {
                var plugin = LoadOne(dir);
                var clash = plugins.FirstOrDefault(p => string.Equals(p.Name, plugin.Name, StringComparison.OrdinalIgnoreCase));
                if (clash is not null)
                    throw new ConfigurationException(
                        $"Two plugins are named '{plugin.Name}': {clash.Folder} and {plugin.Folder}; remove one of them (the built-in plugins are always loaded).");
                plugins.Add(plugin);
            }
        }
        return new PluginCatalog(fulls, plugins);
    }

    static LoadedPlugin LoadOne(string dir)
    {
        var name = Path.GetFileName(dir);
        var dll = Path.Combine(dir, name + ".dll");
        if (!File.Exists(dll))
            throw new ConfigurationException($"Plugin folder '{dir}' has no {name}.dll; each plugin folder must contain a dll named after it.");

        Assembly assembly;
        try
        {
            var loader = PluginLoader.CreateFromAssemblyFile(dll, SharedTypes, config => config.PreferSharedTypes = true);
            assembly = loader.LoadDefaultAssembly();
        }
        catch (BadImageFormatException)
        {
            throw new ConfigurationException($"{dll} is not a plugin: it is not a .NET assembly.");
        }
        catch (Exception e) when (e is FileLoadException or FileNotFoundException)
        {
            throw new ConfigurationException($"{dll} could not be loaded: {e.Message}");
        }

        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException)
        {
            throw new ConfigurationException($"{dll} could not be loaded (a dependency is missing or incompatible): {e.Message}");
        }
        var entries = types.Where(t => typeof(IIarPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }).ToList();
        if (entries.Count == 0)
        {
            var foreign = types.Any(t => t.GetInterfaces().Any(i => i.FullName == typeof(IIarPlugin).FullName));
            throw new ConfigurationException(foreign
                ? $"{dll} implements an IIarPlugin from a different IAR.Abstractions than the host's; remove IAR.Abstractions.dll from its folder (reference it with Private=false)."
                : $"{dll} is not a plugin: it has no public class implementing {nameof(IIarPlugin)}.");
        }
        if (entries.Count > 1)
            throw new ConfigurationException($"{dll} has {entries.Count} classes implementing {nameof(IIarPlugin)} ({string.Join(", ", entries.Select(t => t.Name))}); a plugin has exactly one.");
        if (entries[0].GetConstructor(Type.EmptyTypes) is null)
            throw new ConfigurationException($"{entries[0].FullName} in {dll} needs a public parameterless constructor.");

        var entry = (IIarPlugin)Activator.CreateInstance(entries[0])!;
        var services = new ServiceCollection();
        entry.ConfigureServices(services);
        using var provider = services.BuildServiceProvider();
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                      ?? assembly.GetName().Version?.ToString() ?? "?";
        return new LoadedPlugin(entry.Name, entry.Description, version.Split('+')[0], dir,
            provider.GetServices<ITokenizerFactory>().ToArray(), provider.GetServices<IGeneratorFactory>().ToArray(),
            types.Where(t => typeof(ILossTerm).IsAssignableFrom(t)).ToArray());
    }

    /// <exception cref="ConfigurationException">No plugin of that name (the available ones are listed).</exception>
    public LoadedPlugin Plugin(string name) =>
        Plugins.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ConfigurationException(
            $"Unknown plugin '{name}'; available in {string.Join(", ", Folders)}: {string.Join(", ", Plugins.Select(p => p.Name))}.");

    /// <summary>The tokenizer factory of <paramref name="plugin"/> that has <paramref name="preset"/>.</summary>
    /// <exception cref="ConfigurationException">Unknown plugin or preset (the available ones are listed).</exception>
    public ITokenizerFactory TokenizerFactory(string plugin, string preset) =>
        FindPreset(Plugin(plugin), p => p.Tokenizers, preset, "tokenizer");

    /// <summary>The generator factory of <paramref name="plugin"/> that has <paramref name="preset"/>.</summary>
    /// <exception cref="ConfigurationException">Unknown plugin or preset (the available ones are listed).</exception>
    public IGeneratorFactory GeneratorFactory(string plugin, string preset) =>
        FindPreset(Plugin(plugin), p => p.Generators, preset, "generator");

    static T FindPreset<T>(LoadedPlugin plugin, Func<LoadedPlugin, IReadOnlyList<T>> factories, string preset, string what)
        where T : IModelFactory
    {
        var all = factories(plugin);
        foreach (var f in all)
            if (f.Presets.Any(p => p.Name == preset)) return f;
        var available = all.SelectMany(f => f.Presets.Select(p => p.Name)).ToList();
        throw new ConfigurationException(available.Count == 0
            ? $"Plugin {plugin.Name} provides no {what}s (preset '{preset}' requested)."
            : $"Unknown {what} preset '{preset}' in plugin {plugin.Name}; available: {string.Join(", ", available)}.");
    }
}

/// <summary>A plugin loaded into its own load context, with the factories it registered and the loss terms it exports.</summary>
public sealed record LoadedPlugin(
    string Name,
    string Description,
    string Version,
    string Folder,
    IReadOnlyList<ITokenizerFactory> Tokenizers,
    IReadOnlyList<IGeneratorFactory> Generators,
    IReadOnlyList<Type> LossTerms);
