using IAR.Abstractions;
using IAR.Host.Plugins;
using IAR.Tests.Support;
using TorchSharp;

namespace IAR.Tests.Foundation;

public class PluginCatalogTests
{
    [Fact]
    public void The_build_places_LlamaGen_and_VAR_beside_the_executable()
    {
        var catalog = PluginCatalog.Load(RepoPaths.BuiltPlugins);
        Assert.Contains(catalog.Plugins, p => p.Name == "LlamaGen");
        Assert.Contains(catalog.Plugins, p => p.Name == "VAR");
        // plugins must not carry their own copies of the shared assemblies
        foreach (var p in catalog.Plugins)
        {
            Assert.False(File.Exists(Path.Combine(p.Folder, "IAR.Abstractions.dll")), $"{p.Name} ships IAR.Abstractions.dll");
            Assert.False(File.Exists(Path.Combine(p.Folder, "TorchSharp.dll")), $"{p.Name} ships TorchSharp.dll");
            Assert.False(File.Exists(Path.Combine(p.Folder, "libLibTorchSharp.so")), $"{p.Name} ships libLibTorchSharp.so");
        }
    }

    [Fact]
    public void A_plugin_dropped_into_a_folder_loads_without_rebuilding_the_host_and_shares_TorchSharp()
    {
        using var dir = new TempDir();
        FixturePluginBuild.InstallInto(dir.Path);
        var catalog = PluginCatalog.Load(dir.Path);
        var plugin = Assert.Single(catalog.Plugins);
        Assert.Equal("FixturePlugin", plugin.Name);

        var factory = catalog.TokenizerFactory("FixturePlugin", "tiny");
        var tokenizer = factory.Create(new TokenizerRequest("tiny", new Dictionary<string, string> { ["levels"] = "8" }, new ImageShape(1, 8, 8)));
        Assert.Equal(8, tokenizer.Info.VocabularySize);
        // a tensor made by the host goes into the plugin and back: one TorchSharp in the process
        using var images = torch.linspace(-1, 1, 64).reshape(1, 1, 8, 8);
        using var tokens = tokenizer.Encode(images);
        Assert.Equal(new long[] { 1, 16 }, tokens.shape);
        Assert.Equal(typeof(torch.Tensor), tokens.GetType());

        var generator = catalog.GeneratorFactory("FixturePlugin", "tiny")
            .Create(new GeneratorRequest("tiny", new Dictionary<string, string>(), tokenizer, 3));
        using var sample = generator.Generate(torch.tensor(new long[] { 0, 2 }), new SamplingOptions(), null);
        Assert.Equal(new long[] { 2, 16 }, sample.shape);
    }

    [Fact]
    public void A_missing_folder_is_a_clear_error()
    {
        var e = Assert.Throws<ConfigurationException>(() => PluginCatalog.Load("/nonexistent/plugins"));
        Assert.Contains("/nonexistent/plugins", e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void An_empty_folder_is_a_clear_error()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ConfigurationException>(() => PluginCatalog.Load(dir.Path));
        Assert.Contains("is empty", e.Message);
    }

    [Fact]
    public void A_dll_that_is_not_a_plugin_is_a_clear_error()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("Yaml"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "YamlDotNet.dll"), dir.File("Yaml/Yaml.dll"));
        var e = Assert.Throws<ConfigurationException>(() => PluginCatalog.Load(dir.Path));
        Assert.Contains("is not a plugin", e.Message);
        Assert.Contains("Yaml.dll", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_an_assembly_is_a_clear_error()
    {
        using var dir = new TempDir();
        dir.Write("Junk/Junk.dll", "this is not a PE file");
        var e = Assert.Throws<ConfigurationException>(() => PluginCatalog.Load(dir.Path));
        Assert.Contains("not a .NET assembly", e.Message);
    }

    [Fact]
    public void A_folder_without_its_dll_is_a_clear_error()
    {
        using var dir = new TempDir();
        dir.Write("Empty/readme.txt", "nothing here");
        var e = Assert.Throws<ConfigurationException>(() => PluginCatalog.Load(dir.Path));
        Assert.Contains("has no Empty.dll", e.Message);
    }

    [Fact]
    public void Two_plugins_with_the_same_name_are_a_clear_error()
    {
        using var dir = new TempDir();
        FixturePluginBuild.InstallInto(dir.Path);
        FixturePluginBuild.InstallInto(dir.Path, "FixtureCopy");
        var e = Assert.Throws<ConfigurationException>(() => PluginCatalog.Load(dir.Path));
        Assert.Contains("Two plugins are named 'FixturePlugin'", e.Message);
    }

    [Fact]
    public void Unknown_plugins_and_presets_list_what_is_available()
    {
        var catalog = PluginCatalog.Load(RepoPaths.BuiltPlugins);
        var e = Assert.Throws<ConfigurationException>(() => catalog.Plugin("Nope"));
        Assert.Contains("LlamaGen", e.Message);
        Assert.Contains("VAR", e.Message);
        using var dir = new TempDir();
        FixturePluginBuild.InstallInto(dir.Path);
        var fixture = PluginCatalog.Load(dir.Path);
        var p = Assert.Throws<ConfigurationException>(() => fixture.TokenizerFactory("FixturePlugin", "huge"));
        Assert.Contains("available: tiny", p.Message);
    }

    [Fact]
    public void Commands_load_the_built_in_plugins_and_every_plugins_folder()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        FixturePluginBuild.InstallInto(a.Path);
        FixturePluginBuild.InstallInto(b.Path, "FixtureCopy");
        // FixtureCopy is the same assembly, so it also calls itself FixturePlugin: two folders clash like one.
        var e = Assert.Throws<ConfigurationException>(() => PluginCatalog.ForCommand([a.Path, b.Path]));
        Assert.Contains("Two plugins are named 'FixturePlugin'", e.Message);
        Assert.Contains(a.Path, e.Message);
        Assert.Contains(b.Path, e.Message);

        var catalog = PluginCatalog.ForCommand([a.Path, a.Path + "/"]);
        Assert.Equal(["FixturePlugin", "LlamaGen", "VAR"], catalog.Plugins.Select(p => p.Name).Order());
        Assert.Equal([RepoPaths.BuiltPlugins, a.Path], catalog.Folders);
    }

    [Fact]
    public void The_option_folders_replace_the_experiments_folder_and_the_built_ins_stay()
    {
        using var dir = new TempDir();
        FixturePluginBuild.InstallInto(dir.Path);
        Assert.Equal(["LlamaGen", "VAR"], PluginCatalog.ForCommand([], null).Plugins.Select(p => p.Name).Order());
        Assert.Contains(PluginCatalog.ForCommand(null, dir.Path).Plugins, p => p.Name == "FixturePlugin");
        var e = Assert.Throws<ConfigurationException>(() => PluginCatalog.ForCommand(["/nonexistent/plugins"], dir.Path));
        Assert.Contains("/nonexistent/plugins", e.Message);
    }

    [Fact]
    public void Iar_plugins_takes_several_plugins_folders()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        FixturePluginBuild.InstallInto(a.Path);
        Directory.CreateDirectory(b.File("Junk"));
        b.Write("Junk/Junk.dll", "this is not a PE file");
        var bad = CliRunner.Run("plugins", "--plugins", a.Path, "--plugins", b.Path);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("Junk.dll", bad.Error);
        var ok = CliRunner.Run("plugins", "--plugins", a.Path);
        Assert.Equal(0, ok.ExitCode);
        foreach (var name in new[] { "FixturePlugin", "LlamaGen", "VAR" }) Assert.Contains(name, ok.Output);
    }
}
