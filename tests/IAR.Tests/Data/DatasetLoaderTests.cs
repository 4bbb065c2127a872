using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Data;

public class DatasetLoaderTests
{
    static string Bundled => Path.Combine(RepoPaths.Experiments, "data", "fashion-mnist-subset");

    /// <summary>An IDX set whose image i has every pixel equal to i % 256 and label i % classes.</summary>
    static void WriteIdx(string folder, string split, int count, int height, int width, int classes, bool gzip = true, int channels = 0)
    {
        var suffix = gzip ? ".gz" : "";
        int item = height * width * Math.Max(1, channels);
        var pixels = new byte[count * item];
        for (int i = 0; i < count; i++) pixels.AsSpan(i * item, item).Fill((byte)(i % 256));
        IdxFile.Write(Path.Combine(folder, $"{split}-images-idx3-ubyte{suffix}"),
            channels == 0 ? [count, height, width] : [count, height, width, channels], pixels);
        IdxFile.Write(Path.Combine(folder, $"{split}-labels-idx1-ubyte{suffix}"), [count],
            Enumerable.Range(0, count).Select(i => (byte)(i % classes)).ToArray());
    }

    static DataSpec Idx(string path, int size = 32, int channels = 1) =>
        new() { Source = DataSource.Idx, Path = path, ImageSize = size, Channels = channels };

    [Fact]
    public void Fashion_mnist_is_padded_to_32_with_values_in_minus_one_to_one()
    {
        using var splits = DatasetLoader.Load(new DataSpec { Path = Bundled, TrainLimit = 100, TestLimit = 20 });
        Assert.Equal(100, splits.Train.Count);
        Assert.Equal(20, splits.Test.Count);
        Assert.Equal(new ImageShape(1, 32, 32), splits.Train.Shape);
        Assert.Equal(FashionMnist.ClassNames, splits.Train.ClassNames);
        using var images = splits.Train.Images(torch.arange(100L));
        Assert.True(images.min().item<float>() >= -1 && images.max().item<float>() <= 1);
        // 28 → 32 pads 2 black pixels on every side: the border is exactly −1, the original pixels are untouched
        Assert.Equal(-1f, images[.., .., ..2, ..].max().item<float>());
        Assert.Equal(-1f, images[.., .., .., 30..].max().item<float>());
        var original = IdxFile.Read(Path.Combine(Bundled, FashionMnist.FileName("train", images: true)));
        int index = DatasetLoader.EvenlySpaced(6000, 100)[7];
        using var pixels = splits.Train.Pixels(torch.tensor(new long[] { 7 }));
        Assert.Equal(original.Data.AsSpan(index * 784, 784).ToArray(), pixels[0, 0, 2..30, 2..30].contiguous().data<byte>().ToArray());
    }

    [Fact]
    public void Flipped_images_are_mirrored_left_to_right()
    {
        using var splits = DatasetLoader.Load(new DataSpec { Path = Bundled, TrainLimit = 10, TestLimit = 10 });
        using var indices = torch.arange(4L);
        using var plain = splits.Train.Images(indices);
        using var flipped = splits.Train.Images(indices, torch.tensor(new[] { true, false, true, false }));
        Assert.True(flipped[0].eq(plain[0].flip(2)).all().item<bool>());
        Assert.True(flipped[1].eq(plain[1]).all().item<bool>());
        Assert.False(flipped[2].eq(plain[2]).all().item<bool>());
    }

    [Fact]
    public void Limits_keep_evenly_spaced_images_so_every_class_survives()
    {
        Assert.Equal(new[] { 0, 25, 50, 75 }, DatasetLoader.EvenlySpaced(100, 4));
        Assert.Equal(Enumerable.Range(0, 5), DatasetLoader.EvenlySpaced(5, 0));
        Assert.Equal(Enumerable.Range(0, 5), DatasetLoader.EvenlySpaced(5, 9));
    }

    [Fact]
    public void Raw_idx_files_load_with_classes_from_the_training_labels_and_grey_repeated_to_rgb()
    {
        using var dir = new TempDir();
        WriteIdx(dir.Path, "train", 30, 8, 8, classes: 3, gzip: false);
        WriteIdx(dir.Path, "t10k", 9, 8, 8, classes: 3, gzip: false);
        using var splits = DatasetLoader.Load(Idx(dir.Path, size: 8, channels: 3));
        Assert.Equal(["0", "1", "2"], splits.Train.ClassNames);
        Assert.Equal(new ImageShape(3, 8, 8), splits.Test.Shape);
        using var pixels = splits.Train.Pixels(torch.tensor(new long[] { 5 }));
        Assert.True(pixels.eq(5).all().item<bool>());
        Assert.Equal(new long[] { 0, 1, 2, 0 }, splits.Train.Labels[..4].data<long>().ToArray());
    }

    [Fact]
    public void Rgb_idx_images_become_luma_when_one_channel_is_asked_for()
    {
        using var dir = new TempDir();
        foreach (var split in new[] { "train", "t10k" })
        {
            // one 2x2 image: pure red, green, blue and white pixels
            IdxFile.Write(Path.Combine(dir.Path, $"{split}-images-idx3-ubyte"), [1, 2, 2, 3], [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
            IdxFile.Write(Path.Combine(dir.Path, $"{split}-labels-idx1-ubyte"), [1], [0]);
        }
        using var splits = DatasetLoader.Load(Idx(dir.Path, size: 2));
        using var pixels = splits.Train.Pixels(torch.tensor(new long[] { 0 }));
        Assert.Equal(new byte[] { 76, 150, 29, 255 }, pixels.flatten().data<byte>().ToArray());
    }

    [Fact]
    public void Larger_images_are_centre_cropped_and_resized()
    {
        using var dir = new TempDir();
        WriteIdx(dir.Path, "train", 4, 20, 12, classes: 2);
        WriteIdx(dir.Path, "t10k", 2, 20, 12, classes: 2);
        using var splits = DatasetLoader.Load(Idx(dir.Path, size: 6));
        Assert.Equal(new ImageShape(1, 6, 6), splits.Train.Shape);
        using var pixels = splits.Train.Pixels(torch.tensor(new long[] { 3 }));
        Assert.True(pixels.eq(3).all().item<bool>(), "a constant image stays constant through crop and resize");
    }

    [Fact]
    public void Labels_out_of_range_name_the_file_the_image_and_the_accepted_range()
    {
        using var dir = new TempDir();
        WriteIdx(dir.Path, "train", 20, 28, 28, classes: 10);
        WriteIdx(dir.Path, "t10k", 12, 28, 28, classes: 12);   // labels 10 and 11 exist in no training class
        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(Idx(dir.Path)));
        Assert.Contains("t10k-labels-idx1-ubyte.gz: label 10 of image 10 is out of range", e.Message);
        Assert.Contains("[0, 10)", e.Message);

        var fashion = new DataSpec { Source = DataSource.FashionMnist, Path = dir.Path };
        WriteIdx(dir.Path, "train", 20, 28, 28, classes: 11);
        Assert.Contains("Fashion-MNIST labels must be in [0, 10)", Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(fashion)).Message);
    }

    [Fact]
    public void Splits_of_different_image_sizes_and_mismatched_counts_are_refused()
    {
        using var dir = new TempDir();
        WriteIdx(dir.Path, "train", 10, 28, 28, classes: 2);
        WriteIdx(dir.Path, "t10k", 10, 32, 32, classes: 2);
        var size = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(Idx(dir.Path)));
        Assert.Contains("holds 32x32x1 images but", size.Message);
        Assert.Contains("28x28x1", size.Message);

        WriteIdx(dir.Path, "t10k", 10, 28, 28, classes: 2);
        IdxFile.Write(Path.Combine(dir.Path, "t10k-labels-idx1-ubyte.gz"), [9], new byte[9]);
        Assert.Contains("holds 10 images but", Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(Idx(dir.Path))).Message);

        IdxFile.Write(Path.Combine(dir.Path, "t10k-images-idx3-ubyte.gz"), [10, 784], new byte[7840]);
        Assert.Contains("images must be N×H×W", Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(Idx(dir.Path))).Message);
    }

    [Fact]
    public void Missing_and_truncated_files_are_named()
    {
        using var dir = new TempDir();
        WriteIdx(dir.Path, "train", 10, 28, 28, classes: 2);
        var missing = Assert.Throws<FileNotFoundException>(() => DatasetLoader.Load(Idx(dir.Path)));
        Assert.Contains("t10k-images-idx3-ubyte", missing.Message);

        WriteIdx(dir.Path, "t10k", 10, 28, 28, classes: 2, gzip: false);
        var file = Path.Combine(dir.Path, "t10k-images-idx3-ubyte");
        File.WriteAllBytes(file, File.ReadAllBytes(file)[..1000]);
        Assert.Contains("t10k-images-idx3-ubyte is truncated", Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(Idx(dir.Path))).Message);
    }
}
