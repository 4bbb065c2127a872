using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using IAR.Host.Serialization;
using TorchSharp;

namespace IAR.Host.Plugins;

/// <summary>
/// The one builder of an arm's models from its spec, used by every step that needs them — the job, prepare,
/// <c>iar sample</c>, <c>iar analyze</c> and the preflight checks — so that they all build the same thing:
/// <list type="bullet">
/// <item>the tokenizer of <c>tokenizer:</c> for images of <c>data.image_size</c> × <c>data.channels</c>;</item>
/// <item>the tokenizer in the arm's numbering: the run's tokenizer seen through the arm's permutation (itself for the
/// identity), which is what the generator is built for;</item>
/// <item>the generator of the arm's <c>generator:</c> for that tokenizer and the data's classes, optionally with
/// <c>generator.checkpoint</c> loaded in its original numbering and its vocabulary tensors rearranged into the arm's.</item>
/// </list>
/// Weights come from the global torch generator: the caller seeds it first (the job with its seed, prepare with the run's).
/// </summary>
public static class ArmModels
{
    /// <summary>The images the experiment's models take: <c>data.channels</c> × <c>data.image_size</c>².</summary>
    public static ImageShape Image(ExperimentSpec spec) => new(spec.Data.Channels, spec.Data.ImageSize, spec.Data.ImageSize);

    /// <summary>The experiment's tokenizer with fresh weights.</summary>
    /// <exception cref="ConfigurationException">Unknown plugin, preset or option, or options the plugin refuses.</exception>
    public static ITokenizer Tokenizer(ExperimentSpec spec, PluginCatalog catalog)
    {
        var t = spec.Tokenizer;
        return catalog.TokenizerFactory(t.Plugin, t.Preset).Create(new TokenizerRequest(t.Preset, t.Options, Image(spec)));
    }

    /// <summary>
    /// The tokenizer as an arm's generator sees it: <paramref name="tokenizer"/> (original numbering) rearranged by
    /// <paramref name="permutation"/>, or itself when there is none (the baseline).
    /// </summary>
    public static ITokenizer InArmNumbering(ITokenizer tokenizer, CodebookPermutation? permutation) =>
        permutation is null ? tokenizer : new RearrangedTokenizer(tokenizer, permutation);

    /// <summary>
    /// The arm's generator with fresh weights, for <paramref name="tokenizer"/> in the arm's numbering and
    /// <paramref name="classes"/> classes.
    /// </summary>
    /// <exception cref="ConfigurationException">Unknown plugin, preset or option, or options the plugin refuses.</exception>
    public static IGenerator Generator(ExperimentSpec spec, ITokenizer tokenizer, int classes, PluginCatalog catalog)
    {
        var g = spec.Generator;
        return catalog.GeneratorFactory(g.Plugin, g.Preset).Create(new GeneratorRequest(g.Preset, g.Options, tokenizer, classes));
    }

    /// <summary>
    /// The arm's generator with <c>generator.checkpoint</c> (when given) loaded in its original numbering, then its
    /// vocabulary tensors rearranged by <paramref name="permutation"/> into the arm's.
    /// </summary>
    /// <exception cref="ConfigurationException">The checkpoint does not fit, or the generator cannot be rearranged.</exception>
    public static IGenerator PretrainedGenerator(ExperimentSpec spec, ITokenizer tokenizer, int classes, CodebookPermutation? permutation, PluginCatalog catalog)
    {
        var generator = Generator(spec, tokenizer, classes, catalog);
        try
        {
            var g = spec.Generator;
            if (g.Checkpoint is null) return generator;
            StateDict.Load(generator.Module, g.Checkpoint, $"generator {g.Plugin}/{g.Preset}");
            if (permutation is not null)
            {
                // A vocabulary tensor the plugin forgot to declare would keep the old order and silently drift.
                PretrainedRearrangementCheck.Require(generator, g.Checkpoint, tokenizer.Info.VocabularySize);
                VocabularyRearrangement.Rearrange(generator.VocabularyParameters, permutation);
            }
            return generator;
        }
        catch
        {
            generator.Module.Dispose();
            throw;
        }
    }
}
