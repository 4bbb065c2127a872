using IAR.Host.Experiments;
using IAR.Host.Plugins;
using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Foundation;

/// <summary>Every experiment the repository ships validates completely: schema, plugins, presets, options, IAR and evaluation settings.</summary>
public class ShippedExperimentTests
{
    public static TheoryData<string> Files()
    {
        var files = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(RepoPaths.Experiments, "*.yaml").Order(StringComparer.Ordinal))
            files.Add(Path.GetFileName(file));
        return files;
    }

    [Fact]
    public void The_quickstart_and_the_ablations_are_shipped()
    {
        var names = Directory.GetFiles(RepoPaths.Experiments, "*.yaml").Select(Path.GetFileName).ToArray();
        Assert.Contains("quickstart.yaml", names);
        Assert.Contains("fashion-mnist-ablation.yaml", names);
        Assert.Contains("var-ablation.yaml", names);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Shipped_experiment_validates_with_the_built_plugins(string file)
    {
        var experiment = ExperimentLoader.Load(Path.Combine(RepoPaths.Experiments, file));
        var catalog = PluginCatalog.Load(RepoPaths.BuiltPlugins);
        var errors = ExperimentPreflight.Check(experiment, catalog);
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors.Select(e => e.ToString())));
        Assert.Contains(experiment.Arms, a => a.Spec.Iar.Enabled);
        Assert.Contains(experiment.Arms, a => !a.Spec.Iar.Enabled);
    }

    [Fact]
    public void The_quickstart_loads_its_shipped_tokenizer_into_the_model_its_yaml_builds()
    {
        // The loader resolves the path against the YAML's folder. A preset or option change that moves a key or a
        // shape makes StateDict.Load refuse the file, naming the key.
        using var scope = TorchSharp.torch.NewDisposeScope();   // the sums' temporaries
        var spec = ExperimentLoader.Load(Path.Combine(RepoPaths.Experiments, "quickstart.yaml")).Spec;
        Assert.NotNull(spec.Tokenizer.Checkpoint);
        var tokenizer = ArmModels.Tokenizer(spec, PluginCatalog.Load(RepoPaths.BuiltPlugins));
        using var module = tokenizer.Module;
        var before = module.state_dict().Values.Sum(t => t.to(TorchSharp.torch.ScalarType.Float64).abs().sum().item<double>());
        StateDict.Load(module, spec.Tokenizer.Checkpoint!, "quickstart tokenizer");
        Assert.NotEqual(before, module.state_dict().Values.Sum(t => t.to(TorchSharp.torch.ScalarType.Float64).abs().sum().item<double>()));
    }

    [Fact]
    public void The_experiments_readme_lists_every_key_as_iar_schema_prints_it()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Experiments, "README.md")).ReplaceLineEndings("\n");
        Assert.Contains(SchemaDocumentation.Markdown().ReplaceLineEndings("\n").TrimEnd('\n'), readme);
    }
}
