using IAR.Host.Evaluation;
using IAR.Tests.Support;
using SkiaSharp;
using TorchSharp;

namespace IAR.Tests.Evaluation;

public class SampleGridTests
{
    [Fact]
    public void Tiles_images_row_major_with_white_gaps_and_upscaling()
    {
        using var dir = new TempDir();
        // 3 grey 2×2 images, 2 per row: black, white, mid-grey
        using var images = torch.stack([torch.full(1, 2, 2, -1f), torch.full(1, 2, 2, 1f), torch.full(1, 2, 2, 0f)]);
        var path = dir.File("grid.png");
        SampleGrid.Write(path, images, columns: 2, scale: 3);

        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        using var bitmap = SKBitmap.Decode(bytes);
        // 2 columns of 6 px + 3 gaps of 2 px; 2 rows likewise
        Assert.Equal(2 * 6 + 3 * 2, bitmap.Width);
        Assert.Equal(2 * 6 + 3 * 2, bitmap.Height);
        Assert.Equal(new SKColor(255, 255, 255), bitmap.GetPixel(0, 0));            // gap
        Assert.Equal(new SKColor(0, 0, 0), bitmap.GetPixel(2 + 5, 2 + 5));          // first image, last upscaled pixel
        Assert.Equal(new SKColor(255, 255, 255), bitmap.GetPixel(2 + 6 + 2, 2));     // second image
        Assert.Equal(new SKColor(127, 127, 127), bitmap.GetPixel(2, 2 + 6 + 2));     // third image, second row
        Assert.Equal(new SKColor(255, 255, 255), bitmap.GetPixel(2 + 6 + 2, 2 + 6 + 2));   // empty last cell stays white
    }
}
