using IAR.Abstractions;
using IAR.Host.Plugins;
using TorchSharp;

namespace IAR.Tests.Support;

/// <summary>The test-built fixture plugin, loaded through a plugin catalog as an outside author's plugin would be.</summary>
public static class FixturePluginCatalog
{
    static readonly Lazy<PluginCatalog> Catalog = new(() =>
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "fixture-plugins");
        FixturePluginBuild.InstallInto(dir);
        return PluginCatalog.Load(dir);
    });

    public static ITokenizer Tokenizer(int seed)
    {
        torch.manual_seed(seed);
        return Catalog.Value.TokenizerFactory("FixturePlugin", "tiny")
            .Create(new TokenizerRequest("tiny", new Dictionary<string, string>(), new ImageShape(1, 8, 8)));
    }

    public static IGenerator Generator(int seed) => Generator(seed, Tokenizer(seed));

    /// <summary>The fixture generator for any tokenizer, seeded as the host seeds it (right before Create).</summary>
    public static IGenerator Generator(int seed, ITokenizer tokenizer)
    {
        torch.manual_seed(seed);
        return Catalog.Value.GeneratorFactory("FixturePlugin", "tiny")
            .Create(new GeneratorRequest("tiny", new Dictionary<string, string>(), tokenizer, 4));
    }
}

