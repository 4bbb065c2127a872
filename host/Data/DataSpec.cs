using IAR.Host.Configuration;
using System.ComponentModel;

namespace IAR.Host.Data;

public sealed record DataSpec : ISpecSection
{
    [Description("fashion-mnist | idx | image-folder | llamagen-codes")]
    public DataSource Source { get; init; } = DataSource.FashionMnist;

    [PathValue, Description("folder of the data; fashion-mnist: null = /usr/share/datasets/fashion-mnist if installed, else the bundled subset; llamagen-codes: the code path (holding imagenet<image_size>_codes/ and _labels/)")]
    public string? Path { get; init; }

    [PathValue, Description("llamagen-codes only: an image folder (train/ and val/, one sub-folder per class) for the held-out tokens, the tokenizer's quality check and the evaluation")]
    public string? Images { get; init; }

    [Description("images are padded (small) or centre-cropped and resized (large) to this square size")]
    public int ImageSize { get; init; } = 32;

    [Description("colour channels the tokenizer sees: 1 or 3 (grey images are repeated to 3 channels when 3)")]
    public int Channels { get; init; } = 1;

    [Description("use at most this many training images (0 = all; llamagen-codes: of data.images, the codes are read whole)")]
    public int TrainLimit { get; init; }

    [Description("use at most this many held-out images (0 = all)")]
    public int TestLimit { get; init; }

    [Description("random horizontal flips during training (llamagen-codes: the augmentations come from the code files)")]
    public bool Flip { get; init; }

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (ImageSize < 4) yield return ("image_size", $"image_size = {ImageSize} is too small; at least 4 is accepted.");
        if (Channels is not (1 or 3)) yield return ("channels", $"channels = {Channels} is invalid; 1 or 3 is accepted.");
        if (TrainLimit < 0) yield return ("train_limit", "train_limit must be ≥ 0 (0 = all).");
        if (TestLimit < 0) yield return ("test_limit", "test_limit must be ≥ 0 (0 = all).");
        if (Source != DataSource.FashionMnist && string.IsNullOrEmpty(Path))
            yield return ("path", $"source {Source} needs data.path, the folder holding the data.");
        if (Source == DataSource.LlamagenCodes && string.IsNullOrEmpty(Images))
            yield return ("images", "source llamagen-codes needs data.images, an image folder with train/ and val/ for the held-out tokens and the evaluation.");
        if (Source != DataSource.LlamagenCodes && Images is not null)
            yield return ("images", $"data.images is for source llamagen-codes; source {Source} reads its images from data.path.");
        if (Source == DataSource.LlamagenCodes && Flip)
            yield return ("flip", "data.flip does not apply to source llamagen-codes: the augmentations are those stored in the code files (one drawn per sample).");
    }
}

/// <summary>Where the images (or, for llamagen-codes, the training tokens) come from.</summary>
public enum DataSource
{
    /// <summary>Fashion-MNIST: the full set when installed (or at data.path), else the subset bundled with the repo.</summary>
    FashionMnist,

    /// <summary>IDX files (MNIST format, raw or gzip) in data.path.</summary>
    Idx,

    /// <summary>One sub-folder per class of PNG/JPEG images in data.path.</summary>
    ImageFolder,

    /// <summary>
    /// Training tokens extracted by LlamaGen's extract_codes_c2i.py (or <c>iar extract</c>) under data.path; held-out
    /// and evaluation images from the image folder data.images. (Spelled so that the YAML value is <c>llamagen-codes</c>.)
    /// </summary>
    LlamagenCodes,
}
