using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Data;

/// <summary>The augmentations extract_codes_c2i.py encodes per image.</summary>
public enum LlamaGenAugmentation
{
    /// <summary>A = 2: the image, then its mirror (<c>torch.flip(x, dims=[-1])</c>).</summary>
    Flip,

    /// <summary>
    /// A = 10: torchvision's <c>TenCrop</c> of the image (brought to crop-range × size first): top-left, top-right,
    /// bottom-left, bottom-right and centre, then the same five of the mirror.
    /// </summary>
    TenCrop,
}

/// <summary>
/// Encodes an image set with a tokenizer into LlamaGen's code layout (<see cref="LlamaGenCodeFolders"/>), file i for
/// image i, so that codes made here train in LlamaGen's train_c2i.py and codes made there train here
/// (<see cref="LlamaGenCodeImport"/>).
/// </summary>
public static class LlamaGenCodeExtraction
{
    public static int Variants(LlamaGenAugmentation augmentation) => augmentation == LlamaGenAugmentation.Flip ? 2 : 10;

    /// <summary>The side ten-crop images are brought to before cropping: <c>int(size × crop_range)</c>, as extract_codes_c2i.py.</summary>
    public static int CropSize(int size, double cropRange) => (int)(size * cropRange);

    /// <param name="images">At the tokenizer's size for flips; at <see cref="CropSize"/> for ten crops.</param>
    /// <param name="progress">Called with (images done, total) after every batch.</param>
    /// <exception cref="InvalidDataException">The tokenizer returned codes outside its vocabulary or of another length.</exception>
    public static void Write(LlamaGenCodeFolders folders, ITokenizer tokenizer, ImageDataset images, LlamaGenAugmentation augmentation,
        int batchSize, Device device, CancellationToken cancellation = default, Action<int, int>? progress = null)
    {
        var info = tokenizer.Info;
        int size = info.Image.Height, length = info.Layout.SequenceLength, variants = Variants(augmentation);
        if (augmentation == LlamaGenAugmentation.Flip && images.Shape != info.Image)
            throw new ArgumentException($"Images are {images.Shape}; flip extraction encodes them at the tokenizer's {info.Image}.", nameof(images));
        bool wasTraining = tokenizer.Module.training;
        tokenizer.Module.eval();
        try
        {
            for (int start = 0; start < images.Count; start += batchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = Math.Min(batchSize, images.Count - start);
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                var indices = torch.arange(start, start + n, dtype: ScalarType.Int64);
                var x = images.Images(indices).to(device);                                             // [B, C, H, W]
                var all = augmentation == LlamaGenAugmentation.Flip
                    ? torch.stack([x, x.flip(3)], 1)                                                    // [B, 2, C, S, S]
                    : TenCrop(x, size);                                                                 // [B, 10, C, S, S]
                var codes = tokenizer.Encode(all.flatten(0, 1)).cpu();                                  // [B·A, L]
                if (codes.shape[1] != length || codes.min().item<long>() < 0 || codes.max().item<long>() >= info.VocabularySize)
                    throw new InvalidDataException(
                        $"Tokenizer {info.Plugin}/{info.Preset} returned codes of shape [{string.Join(", ", codes.shape)}] in " +
                        $"[{codes.min().item<long>()}, {codes.max().item<long>()}] for images {start}…; [{n * variants}, {length}] in [0, {info.VocabularySize}) is expected.");
                var values = codes.view(n, variants, length).data<long>().ToArray();
                var labels = images.Labels.narrow(0, start, n).data<long>().ToArray();
                for (int i = 0; i < n; i++)
                {
                    var one = new long[variants, length];
                    Buffer.BlockCopy(values, i * variants * length * sizeof(long), one, 0, variants * length * sizeof(long));
                    folders.Write(start + i, one, labels[i]);
                }
                progress?.Invoke(start + n, images.Count);
            }
        }
        finally
        {
            if (wasTraining) tokenizer.Module.train();
        }
    }

    /// <summary>
    /// torchvision's <c>TenCrop(size)</c> on a batch: <c>five_crop</c> (tl, tr, bl, br, centre; the centre's offsets
    /// <c>int(round((H − S) / 2))</c>, Python's round half to even) of the images, then of their mirrors.
    /// </summary>
    /// <param name="x">[B, C, H, W] with H, W ≥ S.</param>
    /// <returns>[B, 10, C, S, S].</returns>
    public static Tensor TenCrop(Tensor x, int size)
    {
        var crops = new List<Tensor>();
        foreach (var image in new[] { x, x.flip(3) })
        {
            long h = image.shape[2], w = image.shape[3];
            long top = (long)Math.Round((h - size) / 2.0, MidpointRounding.ToEven), left = (long)Math.Round((w - size) / 2.0, MidpointRounding.ToEven);
            foreach (var (y, x0) in new[] { (0L, 0L), (0L, w - size), (h - size, 0L), (h - size, w - size), (top, left) })
                crops.Add(image.narrow(2, y, size).narrow(3, x0, size));
        }
        return torch.stack(crops, 1);
    }
}
