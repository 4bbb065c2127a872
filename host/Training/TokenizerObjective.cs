using IAR.Abstractions;
using IAR.Host.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>Training of a tokenizer on images with its own loss terms (reconstruction, quantizer, …), optionally with random flips.</summary>
public sealed class TokenizerObjective : ITrainingObjective
{
    readonly ITokenizer tokenizer;
    readonly ImageDataset images;
    readonly bool flip;
    readonly Device device;
    readonly IReadOnlyList<ITokenizerLossTerm> terms;

    /// <exception cref="ConfigurationException">The images are not the shape the tokenizer was built for.</exception>
    public TokenizerObjective(ITokenizer tokenizer, ImageDataset images, bool flip, Device device)
    {
        var info = tokenizer.Info;
        if (images.Shape != info.Image)
            throw new ConfigurationException(
                $"Tokenizer {info.Plugin}/{info.Preset} takes {info.Image} images but the data gives {images.Shape}; set data.image_size and data.channels to match.");
        terms = tokenizer.TrainingLossTerms;
        if (terms.Count == 0) throw new ConfigurationException($"Tokenizer {info.Plugin}/{info.Preset} declares no training loss terms, so it cannot be trained; give tokenizer.checkpoint.");
        this.tokenizer = tokenizer;
        this.images = images;
        this.flip = flip;
        this.device = device;
        Terms = terms.Select(t => new LossTermInfo(t.Name, t.Weight)).ToArray();
    }

    public nn.Module Module => tokenizer.Module;

    public IReadOnlyList<LossTermInfo> Terms { get; }

    public int DatasetSize => images.Count;

    public string ThroughputUnit => "images";

    public long UnitsPerSample => 1;

    public IEnumerable<LossValues> Forward(Tensor indices, torch.Generator random, BatchShare share, ulong maskKey)
    {
        long batch = indices.shape[0];
        var mask = flip ? torch.rand([batch], generator: random).lt(0.5) : null;   // drawn for the whole batch
        return Parts();

        IEnumerable<LossValues> Parts()
        {
            foreach (var (start, size) in share.Ranges(batch))
            {
                var x = images.Images(indices.narrow(0, start, size), mask?.narrow(0, start, size)).to(device);
                var output = tokenizer.Reconstruct(x);
                var values = terms.Select(t => t.Compute(x, output)).ToArray();
                // The plugin weights its own terms (e.g. the VQ's commitment β); Σ weight·term is back-propagated.
                var total = values[0] * terms[0].Weight;
                for (int i = 1; i < values.Length; i++) total = total + values[i] * terms[i].Weight;
                yield return new LossValues(total, values);
            }
        }
    }
}
