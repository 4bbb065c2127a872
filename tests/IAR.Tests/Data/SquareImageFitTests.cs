using IAR.Host.Data;

namespace IAR.Tests.Data;

public class SquareImageFitTests
{
    [Fact]
    public void Small_images_are_padded_black_and_centred()
    {
        var fitted = SquareImageFit.Fit(Enumerable.Repeat((byte)200, 2 * 3).ToArray(), height: 2, width: 3, channels: 1, size: 5);
        byte[] expected =
        [
            0, 0, 0, 0, 0,
            0, 200, 200, 200, 0,
            0, 200, 200, 200, 0,
            0, 0, 0, 0, 0,
            0, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, fitted);
    }

    [Fact]
    public void Rgb_pixels_come_out_channel_first()
    {
        // a 1x2 image: a red and a blue pixel, padded into 2x2
        var fitted = SquareImageFit.Fit([255, 0, 0, 0, 0, 255], height: 1, width: 2, channels: 3, size: 2);
        Assert.Equal(new byte[] { 255, 0, 0, 0, /* G */ 0, 0, 0, 0, /* B */ 0, 255, 0, 0 }, fitted);
    }

    [Fact]
    public void Large_images_keep_the_centre_of_the_long_side()
    {
        // 16 high × 48 wide: left third black, centre third white, right third black → the 16x16 centre is white
        const int h = 16, w = 48;
        var pixels = new byte[h * w];
        for (int y = 0; y < h; y++)
        for (int x = 16; x < 32; x++) pixels[y * w + x] = 255;
        var fitted = SquareImageFit.Fit(pixels, h, w, 1, size: 8);   // halved once with the box filter, then 8x24 → crop
        Assert.Equal(64, fitted.Length);
        Assert.All(fitted, v => Assert.Equal(255, v));
    }

    [Fact]
    public void The_box_filter_averages_before_the_bicubic_resize()
    {
        // a 64x64 checkerboard of 0/255 single pixels: ADM halves it with the box filter (to mid-grey) before resizing
        const int n = 64;
        var pixels = new byte[n * n];
        for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) pixels[y * n + x] = (byte)((x + y) % 2 == 0 ? 0 : 255);
        var fitted = SquareImageFit.Fit(pixels, n, n, 1, size: 16);
        Assert.All(fitted, v => Assert.InRange(v, 127, 128));
    }

    [Fact]
    public void Wrong_buffer_sizes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => SquareImageFit.Fit(new byte[5], 2, 3, 1, 4));
        Assert.Throws<ArgumentException>(() => SquareImageFit.Fit(new byte[12], 2, 3, 2, 4));
    }
}
