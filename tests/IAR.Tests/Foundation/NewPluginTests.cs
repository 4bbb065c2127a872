using System.Diagnostics;
using IAR.Tests.Support;

namespace IAR.Tests.Foundation;

/// <summary>
/// plugins/Template/new-plugin: the copy is renamed after --name everywhere (folders, files, namespaces, classes, the
/// plugin's Name, the experiment), its feed holds the two packed kits, and the checkout it runs from is left untouched.
/// </summary>
public class NewPluginTests
{
    static readonly string Script = Path.Combine(RepoPaths.Root, "plugins", "Template", "new-plugin");

    static (int ExitCode, string Output) NewPlugin(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var error = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "new-plugin ran for more than 5 minutes");
        return (p.ExitCode, output + error.Result);
    }

    [Fact]
    public void Name_renames_the_template_and_the_checkout_is_left_as_it_was()
    {
        using var dir = new TempDir();
        var dest = Path.Combine(dir.Path, "gru-plugin");
        string[] kits = [Path.Combine(RepoPaths.Root, "abstractions"), Path.Combine(RepoPaths.Root, "tests", "IAR.ContractTests")];
        var before = kits.ToDictionary(k => k, Newest);

        var r = NewPlugin("--name", "Gru", "--out", dest);
        Assert.True(r.ExitCode == 0, r.Output);

        var files = Directory.GetFiles(dest, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dest, f)).ToArray();
        foreach (var expected in new[] { "Gru.sln", "Gru/Gru.csproj", "Gru/GruPlugin.cs", "Gru/GruGenerator.cs", "Gru.Tests/Gru.Tests.csproj", "Gru.Tests/GruContractTests.cs" })
            Assert.Contains(expected, files);
        Assert.DoesNotContain(files, f => f.Contains("TinyGpt", StringComparison.OrdinalIgnoreCase));
        var leftovers = files.Where(f => !f.StartsWith("feed/"))
            .Where(f => File.ReadAllText(Path.Combine(dest, f)).Contains("tinygpt", StringComparison.OrdinalIgnoreCase)).ToArray();
        Assert.True(leftovers.Length == 0, $"TinyGpt still named in: {string.Join(", ", leftovers)}");
        Assert.Contains("public string Name => \"Gru\";", File.ReadAllText(Path.Combine(dest, "Gru", "GruPlugin.cs")));
        Assert.Contains("plugin: Gru", File.ReadAllText(Path.Combine(dest, "experiments", "tiny.yaml")));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dest, "feed"), "*.nupkg").Length);

        foreach (var kit in kits) Assert.True(Newest(kit) == before[kit], $"new-plugin wrote into the checkout under {kit}");
    }

    [Fact]
    public void A_destination_inside_the_checkout_or_a_name_that_is_no_identifier_is_refused()
    {
        var inside = Path.Combine(RepoPaths.Root, "plugins", "Gru-new-plugin-test");
        var r = NewPlugin("--name", "Gru", "--out", inside);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("lies inside the checkout", r.Output);
        Assert.False(Directory.Exists(inside));

        using var dir = new TempDir();
        r = NewPlugin("--name", "my-plugin", "--out", Path.Combine(dir.Path, "x"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("must be a C# identifier", r.Output);
    }

    static DateTime Newest(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc).Max();
}
