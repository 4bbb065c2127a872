using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Tests.Support;
using SkiaSharp;
using TorchSharp;

namespace IAR.Tests.Data;

public class ImageFolderDatasetTests
{
    static void WriteImage(string path, int width, int height, SKColor color, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        bitmap.Erase(color);
        using var data = bitmap.Encode(format, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    static string Folder(TempDir dir)
    {
        WriteImage(dir.File("data/train/cat/1.png"), 40, 20, new SKColor(255, 0, 0));
        WriteImage(dir.File("data/train/cat/2.png"), 16, 16, new SKColor(0, 255, 0));
        WriteImage(dir.File("data/train/dog/1.jpg"), 64, 48, new SKColor(0, 0, 255), SKEncodedImageFormat.Jpeg);
        WriteImage(dir.File("data/val/dog/1.png"), 20, 20, new SKColor(255, 255, 255));
        File.WriteAllText(dir.File("data/train/dog/notes.txt"), "not an image");
        return dir.File("data");
    }

    static DataSpec Spec(string path, int channels = 3) => new() { Source = DataSource.ImageFolder, Path = path, ImageSize = 16, Channels = channels };

    [Fact]
    public void Classes_are_sub_folders_in_order_and_images_are_decoded_per_batch()
    {
        using var dir = new TempDir();
        using var splits = DatasetLoader.Load(Spec(Folder(dir)));
        Assert.Equal(["cat", "dog"], splits.Train.ClassNames);
        Assert.Equal(3, splits.Train.Count);
        Assert.Equal(new long[] { 0, 0, 1 }, splits.Train.Labels.data<long>().ToArray());
        Assert.Equal(new long[] { 1 }, splits.Test.Labels.data<long>().ToArray());
        Assert.Equal(new ImageShape(3, 16, 16), splits.Train.Shape);

        using var pixels = splits.Train.Pixels(torch.tensor(new long[] { 0, 2 }));   // [2, 3, 16, 16]
        Assert.True(pixels[0, 0].eq(255).all().item<bool>() && pixels[0, 1].eq(0).all().item<bool>(), "red stays red after crop and resize");
        Assert.True(pixels[1, 2].gt(240).all().item<bool>() && pixels[1, 0].lt(15).all().item<bool>(), "the JPEG is blue");
    }

    [Fact]
    public void One_channel_is_the_luma_of_the_colours()
    {
        using var dir = new TempDir();
        using var splits = DatasetLoader.Load(Spec(Folder(dir), channels: 1));
        using var pixels = splits.Train.Pixels(torch.tensor(new long[] { 0, 1 }));
        Assert.True(pixels[0].eq(76).all().item<bool>());    // red: 0.299·255
        Assert.True(pixels[1].eq(150).all().item<bool>());   // green: 0.587·255
    }

    [Fact]
    public void Damaged_files_and_bad_layouts_are_named()
    {
        using var dir = new TempDir();
        var root = Folder(dir);
        File.WriteAllBytes(Path.Combine(root, "train/cat/3.png"), [1, 2, 3, 4, 5]);
        using (var splits = DatasetLoader.Load(Spec(root)))
        {
            var e = Assert.Throws<InvalidDataException>(() => splits.Train.Pixels(torch.tensor(new long[] { 2 })));
            Assert.Contains("3.png", e.Message);
        }

        Directory.CreateDirectory(Path.Combine(root, "val/bird"));
        WriteImage(Path.Combine(root, "val/bird/1.png"), 8, 8, SKColors.Black);
        Assert.Contains("is not a class of the training set", Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(Spec(root))).Message);
        Directory.Delete(Path.Combine(root, "val/bird"), recursive: true);

        Directory.CreateDirectory(Path.Combine(root, "train/empty"));
        Assert.Contains("holds no PNG or JPEG images", Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(Spec(root))).Message);
        Directory.Delete(Path.Combine(root, "train/empty"));

        Directory.Delete(Path.Combine(root, "val"), recursive: true);
        Assert.Contains("must hold train/ and val/", Assert.Throws<FileNotFoundException>(() => DatasetLoader.Load(Spec(root))).Message);
    }

    [Fact]
    public void The_fingerprint_changes_with_the_files()
    {
        using var dir = new TempDir();
        var root = Folder(dir);
        string before;
        using (var splits = DatasetLoader.Load(Spec(root))) before = splits.Train.Fingerprint;
        using (var splits = DatasetLoader.Load(Spec(root))) Assert.Equal(before, splits.Train.Fingerprint);
        WriteImage(Path.Combine(root, "train/cat/2.png"), 17, 16, SKColors.Green);
        using (var splits = DatasetLoader.Load(Spec(root))) Assert.NotEqual(before, splits.Train.Fingerprint);
    }
}
