namespace IAR.Host.Experiments;

/// <summary>Where the images come from.</summary>
public enum DataSource
{
    /// <summary>Fashion-MNIST: the full set when installed (or at data.path), else the subset bundled with the repo.</summary>
    FashionMnist,

    /// <summary>IDX files (MNIST format, raw or gzip) in data.path.</summary>
    Idx,

    /// <summary>One sub-folder per class of PNG/JPEG images in data.path.</summary>
    ImageFolder,
}
