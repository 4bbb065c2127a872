namespace IAR.Host.Data;

/// <summary>The training images and the held-out images of one data set, with the same classes and shape.</summary>
public sealed record DatasetSplits(ImageDataset Train, ImageDataset Test) : IDisposable
{
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
