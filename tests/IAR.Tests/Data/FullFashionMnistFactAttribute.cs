using IAR.Host.Data;

namespace IAR.Tests.Data;

/// <summary>A fact that needs the full Fashion-MNIST (apt-get install dataset-fashion-mnist); skipped where it is not installed.</summary>
public sealed class FullFashionMnistFactAttribute : FactAttribute
{
    public FullFashionMnistFactAttribute()
    {
        if (!File.Exists(Path.Combine(FashionMnist.InstalledFolder, FashionMnist.FileName("train", images: true))))
            Skip = $"the full Fashion-MNIST is not installed at {FashionMnist.InstalledFolder}";
    }
}
