using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Data;

/// <summary>
/// <c>data:</c> → the training and held-out images at the tokenizer's input size. IDX sets (Fashion-MNIST, MNIST)
/// are read whole into memory as bytes; image folders are listed and decoded per batch.
/// </summary>
public static class DatasetLoader
{
    /// <exception cref="FileNotFoundException">A file or folder of the data set is missing.</exception>
    /// <exception cref="InvalidDataException">A file is unreadable, truncated, of the wrong shape, or has labels out of range.</exception>
    public static DatasetSplits Load(DataSpec spec) => spec.Source switch
    {
        DataSource.FashionMnist => LoadIdx(spec, FashionMnist.Locate(spec.Path), "Fashion-MNIST", FashionMnist.ClassNames),
        DataSource.Idx => LoadIdx(spec, spec.Path!, "IDX", classNames: null),
        DataSource.ImageFolder => LoadImageFolder(spec, spec.Path!),
        DataSource.LlamagenCodes => LoadImageFolder(spec, spec.Images!),
        _ => throw new ConfigurationException($"data.source {spec.Source} is not supported."),
    };

    /// <summary>
    /// The indices kept by a limit: evenly spaced over the file order, so an image folder sorted by class keeps every
    /// class and the choice does not depend on any seed (the token cache is shared by all seeds).
    /// </summary>
    public static int[] EvenlySpaced(int count, int limit) =>
        limit <= 0 || limit >= count ? Enumerable.Range(0, count).ToArray()
            : Enumerable.Range(0, limit).Select(i => (int)((long)i * count / limit)).ToArray();

    static DatasetSplits LoadIdx(DataSpec spec, string folder, string name, IReadOnlyList<string>? classNames)
    {
        var train = ReadIdxSplit(folder, "train", spec.TrainLimit);
        var test = ReadIdxSplit(folder, "t10k", spec.TestLimit);
        if (train.Height != test.Height || train.Width != test.Width || train.Channels != test.Channels)
            throw new InvalidDataException(
                $"{test.ImagesFile} holds {test.Height}x{test.Width}x{test.Channels} images but {train.ImagesFile} holds " +
                $"{train.Height}x{train.Width}x{train.Channels}; both splits must have one image size.");
        // MNIST-format sets carry no class names: the classes are 0 … (largest training label).
        var names = classNames ?? Enumerable.Range(0, train.FileLabels.Max() + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        CheckLabels(train, names.Count, name, classNames is null);
        CheckLabels(test, names.Count, name, classNames is null);
        return new DatasetSplits(ToDataset(train, spec, name, names), ToDataset(test, spec, name, names));
    }

    /// <param name="Labels">The labels of the kept images.</param>
    /// <param name="FileLabels">Every label of the file (checked whole, whatever the limit keeps).</param>
    sealed record IdxSplit(string ImagesFile, string LabelsFile, int Height, int Width, int Channels, byte[] Pixels, byte[] Labels,
        byte[] FileLabels, int Count);

    static IdxSplit ReadIdxSplit(string folder, string split, int limit)
    {
        var imagesFile = FindIdx(folder, $"{split}-images-idx3-ubyte");
        var labelsFile = FindIdx(folder, $"{split}-labels-idx1-ubyte");
        var images = IdxFile.Read(imagesFile);
        var labels = IdxFile.Read(labelsFile);
        var dims = images.Dimensions;
        bool shapeOk = dims.Count == 3 || (dims.Count == 4 && dims[3] is 1 or 3);
        if (!shapeOk || dims.Skip(1).Any(d => d < 1))
            throw new InvalidDataException(
                $"{imagesFile} holds data of shape {string.Join("x", dims)}; images must be N×H×W (grey) or N×H×W×C with C = 1 or 3.");
        if (labels.Dimensions.Count != 1)
            throw new InvalidDataException($"{labelsFile} holds data of shape {string.Join("x", labels.Dimensions)}; labels must be one value per image (N).");
        if (images.Count == 0) throw new InvalidDataException($"{imagesFile} holds no images.");
        if (labels.Count != images.Count)
            throw new InvalidDataException($"{imagesFile} holds {images.Count} images but {labelsFile} holds {labels.Count} labels; they must match.");
        int channels = dims.Count == 4 ? dims[3] : 1;
        var keep = EvenlySpaced(images.Count, limit);
        int item = images.ItemSize;
        var pixels = new byte[(long)keep.Length * item];
        var kept = new byte[keep.Length];
        for (int k = 0; k < keep.Length; k++)
        {
            Array.Copy(images.Data, (long)keep[k] * item, pixels, (long)k * item, item);
            kept[k] = labels.Data[keep[k]];
        }
        return new IdxSplit(imagesFile, labelsFile, dims[1], dims[2], channels, pixels, kept, labels.Data, keep.Length);
    }

    static string FindIdx(string folder, string stem)
    {
        foreach (var candidate in new[] { stem + ".gz", stem })
        {
            var path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"Data folder '{folder}' has neither {stem}.gz nor {stem}; an IDX data set needs train- and t10k- images and labels.");
    }

    static void CheckLabels(IdxSplit split, int numClasses, string name, bool classesFromTraining)
    {
        for (int i = 0; i < split.FileLabels.Length; i++)
            if (split.FileLabels[i] >= numClasses)
                throw new InvalidDataException(
                    $"{split.LabelsFile}: label {split.FileLabels[i]} of image {i} is out of range; {name} labels must be in [0, {numClasses})" +
                    (classesFromTraining ? " (the classes of the training set)." : "."));
    }

    static InMemoryImageDataset ToDataset(IdxSplit split, DataSpec spec, string name, IReadOnlyList<string> classNames)
    {
        using var scope = torch.NewDisposeScope();
        int size = spec.ImageSize;
        Tensor pixels;   // uint8 [N, C, size, size]
        if (SquareImageFit.Pads(split.Height, split.Width, size))
        {
            var raw = torch.tensor(split.Pixels, [split.Count, split.Height, split.Width, split.Channels], ScalarType.Byte).permute(0, 3, 1, 2);
            int left = (size - split.Width) / 2, top = (size - split.Height) / 2;
            pixels = nn.functional.pad(raw, [left, size - split.Width - left, top, size - split.Height - top]);
        }
        else
        {
            int item = split.Height * split.Width * split.Channels, fitted = split.Channels * size * size;
            var output = new byte[(long)split.Count * fitted];
            Parallel.For(0, split.Count, i =>
                SquareImageFit.Fit(split.Pixels.AsSpan(i * item, item), split.Height, split.Width, split.Channels, size)
                    .CopyTo(output, (long)i * fitted));
            pixels = torch.tensor(output, [split.Count, split.Channels, size, size], ScalarType.Byte);
        }
        pixels = ConvertChannels(pixels, spec.Channels).contiguous();
        var labels = torch.tensor(split.Labels, ScalarType.Byte).to(ScalarType.Int64);
        var how = SquareImageFit.Pads(split.Height, split.Width, size) ? "padded" : "centre-cropped and resized";
        var description = $"{name} {Path.GetFileName(split.ImagesFile)}: {split.Count} images {split.Channels}x{split.Height}x{split.Width} " +
                          $"→ {spec.Channels}x{size}x{size} ({how}), from {Path.GetDirectoryName(split.ImagesFile)}";
        return new InMemoryImageDataset(description, pixels.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), classNames);
    }

    /// <summary>uint8 [N, C, H, W] → [N, channels, H, W]: grey is repeated to RGB, RGB becomes ITU-R 601-2 luma.</summary>
    static Tensor ConvertChannels(Tensor pixels, int channels)
    {
        long have = pixels.shape[1];
        if (have == channels) return pixels;
        if (have == 1) return pixels.expand(-1, channels, -1, -1);
        var rgb = pixels.to(ScalarType.Int32);
        var luma = (rgb[.., 0] * 299 + rgb[.., 1] * 587 + rgb[.., 2] * 114 + 500).div(1000, RoundingMode.floor);
        return luma.unsqueeze(1).to(ScalarType.Byte);
    }

    static DatasetSplits LoadImageFolder(DataSpec spec, string root)
    {
        var trainFolder = Path.Combine(root, "train");
        var testFolder = new[] { "val", "test" }.Select(n => Path.Combine(root, n)).FirstOrDefault(Directory.Exists);
        if (!Directory.Exists(trainFolder) || testFolder is null)
            throw new FileNotFoundException(
                $"data.{(spec.Source == DataSource.LlamagenCodes ? "images" : "path")} '{root}' must hold train/ and val/ (or test/) folders, each with one sub-folder of images per class.");
        var train = ImageFolderDataset.Open(trainFolder, spec.Channels, spec.ImageSize);
        var test = ImageFolderDataset.Open(testFolder, spec.Channels, spec.ImageSize, train.ClassNames);
        return new DatasetSplits(Limit(train, spec.TrainLimit), Limit(test, spec.TestLimit));
    }

    static ImageFolderDataset Limit(ImageFolderDataset dataset, int limit)
    {
        if (limit <= 0 || limit >= dataset.Count) return dataset;
        var subset = dataset.Subset(EvenlySpaced(dataset.Count, limit));
        dataset.Dispose();
        return subset;
    }
}

/// <summary>The training images and the held-out images of one data set, with the same classes and shape.</summary>
public sealed record DatasetSplits(ImageDataset Train, ImageDataset Test) : IDisposable
{
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
