using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Data;
using IAR.Host.Iar;
using IAR.Host.Runs;
using IAR.Host.Serialization;
using IAR.Host.Training;
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

    /// <summary>The experiment's tokenizer with fresh weights, for its images or for <paramref name="image"/>.</summary>
    /// <exception cref="ConfigurationException">Unknown plugin, preset or option, or options the plugin refuses.</exception>
    public static ITokenizer Tokenizer(ExperimentSpec spec, PluginCatalog catalog, ImageShape? image = null)
    {
        var t = spec.Tokenizer;
        return catalog.TokenizerFactory(t.Plugin, t.Preset).Create(new TokenizerRequest(t.Preset, t.Options, image ?? Image(spec)));
    }

    /// <summary>
    /// A finished prepare step's tokenizer with the weights it used: the run folder's <c>tokenizer.safetensors</c> when the
    /// run trained it, else <c>tokenizer.checkpoint</c>, which prepare loads and does not copy. Its fingerprint is checked
    /// against the one the run's token cache recorded, so a checkpoint replaced since the run is refused instead of
    /// decoding the run's tokens as other codes.
    /// </summary>
    /// <param name="image">Build it for other images than the run's (<c>iar extract</c>); the fingerprint, which
    /// includes the image shape, is then not checked.</param>
    /// <returns>The tokenizer (original numbering, train mode) and the file its weights came from.</returns>
    /// <exception cref="ConfigurationException">Neither file exists: the run's prepare step has not finished.</exception>
    /// <exception cref="InvalidDataException">The weights are not the ones the run encoded its tokens with.</exception>
    public static (ITokenizer Tokenizer, string Weights) RunTokenizer(string runDirectory, ExperimentSpec spec, PluginCatalog catalog, ImageShape? image = null)
    {
        var t = spec.Tokenizer;
        var trained = Path.Combine(runDirectory, RunLayout.TokenizerWeightsFile);
        var weights = File.Exists(trained) ? trained
            : t.Checkpoint is not null && File.Exists(t.Checkpoint) ? t.Checkpoint
            : throw new ConfigurationException(t.Checkpoint is null
                ? $"{trained} does not exist; the run has not finished training its tokenizer (iar run {Path.Combine(runDirectory, RunLayout.ConfigFile)} --prepare)."
                : $"The run's tokenizer.checkpoint {t.Checkpoint} does not exist (the run loaded it from there); put the file back, or copy it to {trained}.");
        var tokenizer = Tokenizer(spec, catalog, image);
        try
        {
            StateDict.Load(tokenizer.Module, weights, $"tokenizer {t.Plugin}/{t.Preset}");
            var cache = Path.Combine(runDirectory, RunLayout.TokensFile("train"));
            if ((image is null || image == Image(spec)) && File.Exists(cache)
                && SafeTensorsFile.Open(cache).Metadata.TryGetValue(TokenCache.Keys.Tokenizer, out var recorded)
                && ModelFingerprint.Of(tokenizer) is var actual && actual != recorded)
                throw new InvalidDataException(
                    $"{weights} is tokenizer {actual}, but the run encoded its tokens ({cache}) with tokenizer {recorded}; " +
                    "the file changed since the run: restore the one the run used.");
            return (tokenizer, weights);
        }
        catch
        {
            tokenizer.Module.Dispose();
            throw;
        }
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
