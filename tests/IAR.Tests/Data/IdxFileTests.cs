using System.IO.Compression;
using IAR.Host.Data;
using IAR.Tests.Support;

namespace IAR.Tests.Data;

public class IdxFileTests
{
    [Theory]
    [InlineData("images.idx")]
    [InlineData("images.idx.gz")]
    public void Round_trips_raw_and_gzip(string name)
    {
        using var dir = new TempDir();
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 7)).ToArray();
        IdxFile.Write(dir.File(name), [2, 3, 4], data);
        var bytes = File.ReadAllBytes(dir.File(name));
        Assert.Equal(name.EndsWith(".gz"), bytes[0] == 0x1f && bytes[1] == 0x8b);
        var read = IdxFile.Read(dir.File(name));
        Assert.Equal(new[] { 2, 3, 4 }, read.Dimensions);
        Assert.Equal(2, read.Count);
        Assert.Equal(12, read.ItemSize);
        Assert.Equal(data, read.Data);
    }

    [Fact]
    public void A_truncated_file_is_refused_with_the_declared_and_actual_sizes()
    {
        using var dir = new TempDir();
        IdxFile.Write(dir.File("x.idx"), [10, 4], new byte[40]);
        var bytes = File.ReadAllBytes(dir.File("x.idx"));
        File.WriteAllBytes(dir.File("cut.idx"), bytes[..^5]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(dir.File("cut.idx")));
        Assert.Contains("cut.idx is truncated", e.Message);
        Assert.Contains("declares 40 values", e.Message);
        Assert.Contains("holds 35", e.Message);

        File.WriteAllBytes(dir.File("header.idx"), bytes[..6]);
        Assert.Contains("header is truncated", Assert.Throws<InvalidDataException>(() => IdxFile.Read(dir.File("header.idx"))).Message);
    }

    [Fact]
    public void A_truncated_gzip_stream_is_refused()
    {
        using var dir = new TempDir();
        IdxFile.Write(dir.File("x.idx.gz"), [100, 28, 28], Enumerable.Range(0, 78400).Select(i => (byte)(i * 31 % 251)).ToArray());
        var bytes = File.ReadAllBytes(dir.File("x.idx.gz"));
        File.WriteAllBytes(dir.File("cut.gz"), bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(dir.File("cut.gz")));
        Assert.Contains("cut.gz", e.Message);
    }

    [Fact]
    public void Wrong_magic_and_unsupported_types_are_refused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("png.idx"), [0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 0]);
        Assert.Contains("does not start with the IDX magic", Assert.Throws<InvalidDataException>(() => IdxFile.Read(dir.File("png.idx"))).Message);
        File.WriteAllBytes(dir.File("float.idx"), [0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        Assert.Contains("type 0x0d", Assert.Throws<InvalidDataException>(() => IdxFile.Read(dir.File("float.idx"))).Message);
        using (var gz = new GZipStream(File.Create(dir.File("garbage.gz")), CompressionLevel.Fastest))
            gz.Write("not an idx file at all"u8);
        Assert.Contains("IDX magic", Assert.Throws<InvalidDataException>(() => IdxFile.Read(dir.File("garbage.gz"))).Message);
        Assert.Throws<FileNotFoundException>(() => IdxFile.Read(dir.File("missing.idx")));
    }
}
