using System.Diagnostics;

namespace IAR.Tests.Support;

/// <summary>
/// Builds tests/fixtures/FixturePlugin with the SDK (once per test run, and only when a source is newer than its
/// built dll, as make would) and returns its output folder, so tests can drop it into a plugin folder the host has never
/// seen. Skipping the up-to-date build matters where each test process is new: a mutation run starts one per mutant, and
/// `dotnet build` costs 20–40 s there.
/// </summary>
public static class FixturePluginBuild
{
    static readonly Lazy<string> Output = new(Build);

    public static string OutputFolder => Output.Value;

    static string Build()
    {
        var project = Path.Combine(RepoPaths.Root, "tests", "fixtures", "FixturePlugin", "FixturePlugin.csproj");
        var folder = Path.Combine(RepoPaths.Root, "tests", "fixtures", "FixturePlugin", "bin", RepoPaths.Configuration, "net10.0", "linux-x64");
        var dll = Path.Combine(folder, "FixturePlugin.dll");
        if (File.Exists(dll) && File.GetLastWriteTimeUtc(dll) > NewestSource()) return folder;
        var psi = new ProcessStartInfo("dotnet",
            ["build", project, "-c", RepoPaths.Configuration, "--nologo", "-v", "q", "--disable-build-servers", "-p:NuGetAudit=false"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) p.Kill(entireProcessTree: true);
        if (p.ExitCode != 0) throw new InvalidOperationException($"Building the fixture plugin failed:\n{stdout.Result}\n{stderr.Result}");
        if (!File.Exists(dll)) throw new InvalidOperationException($"No FixturePlugin.dll in {folder}.");
        return folder;
    }

    /// <summary>The newest write time of the plugin's inputs: its sources and project, the abstractions' sources, the build props.</summary>
    static DateTime NewestSource()
    {
        var roots = new[] { Path.Combine(RepoPaths.Root, "tests", "fixtures", "FixturePlugin"), Path.Combine(RepoPaths.Root, "abstractions") };
        var inputs = roots.SelectMany(r => Directory.EnumerateFiles(r, "*", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") &&
                            !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
            .Concat(Directory.EnumerateFiles(RepoPaths.Root, "Directory.*.props"))
            .Concat(Directory.EnumerateFiles(RepoPaths.Root, "Directory.*.targets"));
        return inputs.Select(File.GetLastWriteTimeUtc).DefaultIfEmpty(DateTime.MaxValue).Max();
    }

    /// <summary>Copies the built plugin into <paramref name="pluginFolder"/>/<paramref name="name"/>/ (renaming the dll to match).</summary>
    public static void InstallInto(string pluginFolder, string name = "FixturePlugin")
    {
        var target = Path.Combine(pluginFolder, name);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(OutputFolder))
        {
            var fileName = Path.GetFileName(file);
            if (fileName.StartsWith("FixturePlugin.", StringComparison.Ordinal)) fileName = name + fileName["FixturePlugin".Length..];
            File.Copy(file, Path.Combine(target, fileName), overwrite: true);
        }
    }
}
