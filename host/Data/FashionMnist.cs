namespace IAR.Host.Data;

/// <summary>
/// Where Fashion-MNIST comes from: an explicit folder, else the full set installed by
/// <c>apt-get install dataset-fashion-mnist</c>, else the deterministic subset bundled with the repository
/// (600 training and 200 test images per class; Fashion-MNIST is MIT licensed).
/// </summary>
public static class FashionMnist
{
    public const string InstalledFolder = "/usr/share/datasets/fashion-mnist";

    public const int TrainPerClass = 600;

    public const int TestPerClass = 200;

    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The bundled subset: experiments/data/fashion-mnist-subset in the repository (found above the executable).</summary>
    public static string? BundledFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "experiments", "data", "fashion-mnist-subset");
            if (File.Exists(Path.Combine(candidate, FileName("train", images: true)))) return candidate;
        }
        return null;
    }

    /// <summary>The folder to read: <paramref name="explicitPath"/>, else the installed full set, else the bundled subset.</summary>
    /// <exception cref="FileNotFoundException">None of them exists.</exception>
    public static string Locate(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            if (!File.Exists(Path.Combine(explicitPath, FileName("train", images: true))))
                throw new FileNotFoundException($"data.path '{explicitPath}' holds no {FileName("train", images: true)}; it should be a Fashion-MNIST folder of IDX files.");
            return explicitPath;
        }
        if (File.Exists(Path.Combine(InstalledFolder, FileName("train", images: true)))) return InstalledFolder;
        return BundledFolder()
               ?? throw new FileNotFoundException($"Fashion-MNIST was not found: neither {InstalledFolder} (apt-get install dataset-fashion-mnist) nor the repository's experiments/data/fashion-mnist-subset.");
    }

    /// <summary>The standard file names: <c>train-images-idx3-ubyte.gz</c>, <c>t10k-labels-idx1-ubyte.gz</c>, …</summary>
    /// <param name="split"><c>train</c> or <c>t10k</c>.</param>
    public static string FileName(string split, bool images) =>
        images ? $"{split}-images-idx3-ubyte.gz" : $"{split}-labels-idx1-ubyte.gz";

    /// <summary>
    /// Writes the bundled subset from a full copy: for each split, the first <c>perClass</c> images of every class in
    /// file order (so the subset is a pure function of the source files).
    /// </summary>
    public static void WriteSubset(string source, string target, int trainPerClass = TrainPerClass, int testPerClass = TestPerClass)
    {
        foreach (var (split, perClass) in new[] { ("train", trainPerClass), ("t10k", testPerClass) })
        {
            var images = IdxFile.Read(Path.Combine(source, FileName(split, images: true)));
            var labels = IdxFile.Read(Path.Combine(source, FileName(split, images: false)));
            var counts = new int[10];
            var keep = new List<int>();
            for (int i = 0; i < labels.Count; i++)
                if (counts[labels.Data[i]]++ < perClass) keep.Add(i);
            int size = images.ItemSize;
            var imageBytes = new byte[keep.Count * size];
            var labelBytes = new byte[keep.Count];
            for (int k = 0; k < keep.Count; k++)
            {
                Array.Copy(images.Data, (long)keep[k] * size, imageBytes, (long)k * size, size);
                labelBytes[k] = labels.Data[keep[k]];
            }
            IdxFile.Write(Path.Combine(target, FileName(split, images: true)), [keep.Count, .. images.Dimensions.Skip(1)], imageBytes);
            IdxFile.Write(Path.Combine(target, FileName(split, images: false)), [keep.Count], labelBytes);
        }
    }
}
