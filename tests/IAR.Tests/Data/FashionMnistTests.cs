using IAR.Host.Data;
using IAR.Tests.Support;

namespace IAR.Tests.Data;

public class FashionMnistTests
{
    static string Bundled => Path.Combine(RepoPaths.Experiments, "data", "fashion-mnist-subset");

    [FullFashionMnistFact]
    public void The_bundled_subset_is_exactly_WriteSubset_of_the_installed_full_set()
    {
        using var dir = new TempDir();
        FashionMnist.WriteSubset(FashionMnist.InstalledFolder, dir.Path);
        foreach (var split in new[] { "train", "t10k" })
        foreach (var images in new[] { true, false })
        {
            var name = FashionMnist.FileName(split, images);
            var expected = IdxFile.Read(Path.Combine(dir.Path, name));
            var bundled = IdxFile.Read(Path.Combine(Bundled, name));
            Assert.Equal(expected.Dimensions, bundled.Dimensions);
            Assert.True(expected.Data.AsSpan().SequenceEqual(bundled.Data), $"{name} differs from WriteSubset of the full set");
        }
    }

    [Fact]
    public void The_bundled_subset_holds_600_training_and_200_test_images_per_class()
    {
        foreach (var (split, perClass) in new[] { ("train", FashionMnist.TrainPerClass), ("t10k", FashionMnist.TestPerClass) })
        {
            var labels = IdxFile.Read(Path.Combine(Bundled, FashionMnist.FileName(split, images: false)));
            var images = IdxFile.Read(Path.Combine(Bundled, FashionMnist.FileName(split, images: true)));
            Assert.Equal(new[] { 10 * perClass, 28, 28 }, images.Dimensions);
            Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(perClass, labels.Data.Count(l => l == c)));
        }
    }

    [Fact]
    public void Locate_prefers_an_explicit_folder_and_names_it_when_it_is_not_a_data_set()
    {
        Assert.Equal(Bundled, FashionMnist.Locate(Bundled));
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Locate(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.NotNull(FashionMnist.BundledFolder());
    }
}
