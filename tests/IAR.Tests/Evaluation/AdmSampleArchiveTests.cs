using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using IAR.Host.Evaluation;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Evaluation;

public class AdmSampleArchiveTests
{
    /// <summary>Parses an NPY v1.0 entry the way numpy.lib.format does: magic, version, header dict, then data.</summary>
    static (string Descr, bool Fortran, long[] Shape, byte[] Data, int HeaderLength) ReadNpy(byte[] bytes)
    {
        Assert.Equal(NpyArray.Magic, bytes[..6]);
        Assert.Equal(1, bytes[6]);
        Assert.Equal(0, bytes[7]);
        int length = BitConverter.ToUInt16(bytes, 8);
        var header = Encoding.ASCII.GetString(bytes, 10, length);
        Assert.EndsWith("\n", header);
        var m = Regex.Match(header, @"^\{'descr': '([^']+)', 'fortran_order': (True|False), 'shape': \(([0-9, ]*)\), \} *\n$");
        Assert.True(m.Success, $"header not in numpy's form: {header}");
        var shape = m.Groups[3].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        return (m.Groups[1].Value, m.Groups[2].Value == "True", shape, bytes[(10 + length)..], 10 + length);
    }

    static byte[] Entry(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new Xunit.Sdk.XunitException($"no entry {name}");
        using var stream = entry.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    [Fact]
    public void Writes_uint8_nhwc_rgb_arr_0_and_int64_labels_arr_1()
    {
        using var dir = new TempDir();
        // 2 grey images 2×3: pixel values chosen to hit the ends and the truncation of ((x + 1)·127.5)
        using var images = torch.tensor(new float[] { -1, 0, 1, -2, 0.5f, -0.999f, 1, 1, 1, 1, 1, 1 }, [2, 1, 2, 3]);
        using var samples = new LabelledImages(images.clone(), torch.tensor(new long[] { 7, 2 }));
        var path = dir.File("samples.npz");
        AdmSampleArchive.Write(path, samples);

        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(new[] { "arr_0.npy", "arr_1.npy" }, zip.Entries.Select(e => e.FullName).Order().ToArray());
        Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength));   // stored, as numpy.savez writes

        var (descr, fortran, shape, data, headerLength) = ReadNpy(Entry(zip, "arr_0.npy"));
        Assert.Equal("|u1", descr);
        Assert.False(fortran);
        Assert.Equal(new long[] { 2, 2, 3, 3 }, shape);
        Assert.Equal(0, headerLength % 64);
        // (x+1)·127.5 truncated: -1→0, 0→127, 1→255, -2→0 (clamped), 0.5→191, -0.999→0; each repeated over R, G, B
        byte[] grey = [0, 127, 255, 0, 191, 0, 255, 255, 255, 255, 255, 255];
        Assert.Equal(grey.SelectMany(v => new[] { v, v, v }).ToArray(), data);

        var labels = ReadNpy(Entry(zip, "arr_1.npy"));
        Assert.Equal("<i8", labels.Descr);
        Assert.Equal(new long[] { 2 }, labels.Shape);
        Assert.Equal(new long[] { 7, 2 }, Enumerable.Range(0, 2).Select(i => BitConverter.ToInt64(labels.Data, 8 * i)).ToArray());
    }

    [Fact]
    public void Colour_images_keep_their_channel_order()
    {
        using var images = torch.zeros(1, 3, 1, 1);
        images[0, 0, 0, 0] = torch.tensor(1f);    // R
        images[0, 2, 0, 0] = torch.tensor(-1f);   // B
        var (pixels, shape) = AdmSampleArchive.ToNhwcRgb(images);
        Assert.Equal(new long[] { 1, 1, 1, 3 }, shape);
        Assert.Equal(new byte[] { 255, 127, 0 }, pixels);
    }

    [Fact]
    public void Npy_headers_are_padded_to_64_bytes_for_any_shape()
    {
        foreach (var shape in new long[][] { [1], [12345], [50000, 256, 256, 3], [3, 4] })
        {
            var header = NpyArray.Header("|u1", shape);
            Assert.Equal(0, header.Length % 64);
            Assert.Equal((byte)'\n', header[^1]);
            Assert.Equal(header.Length - 10, BitConverter.ToUInt16(header, 8));
        }
        Assert.Contains("'shape': (7,)", Encoding.ASCII.GetString(NpyArray.Header("<i8", [7])));
    }

    /// <summary>Colour images in three batches (one empty) and their labels: 11 images of 3×5.</summary>
    static (Tensor Images, Tensor Labels) WriteBatched(string path)
    {
        var images = torch.linspace(-1.2, 1.2, 11 * 3 * 3 * 5).reshape(11, 3, 3, 5);
        var labels = torch.arange(11, dtype: ScalarType.Int64) * 7 - 20;
        using var writer = new AdmSampleWriter(path, 11, 3, 5);
        writer.Append(images[..4], labels[..4]);
        writer.Append(images[4..4], labels[4..4]);
        writer.Append(images[4..], labels[4..]);
        writer.Complete();
        return (images, labels);
    }

    [Fact]
    public void The_same_samples_give_the_same_bytes_and_an_unfinished_archive_leaves_no_file()
    {
        using var dir = new TempDir();
        var (images, labels) = WriteBatched(dir.File("a/samples.npz"));
        WriteBatched(dir.File("b/samples.npz"));
        images.Dispose();
        labels.Dispose();
        Assert.Equal(File.ReadAllBytes(dir.File("a/samples.npz")), File.ReadAllBytes(dir.File("b/samples.npz")));
        using (var zip = ZipFile.OpenRead(dir.File("a/samples.npz")))   // not the clock: two quick writes would share it
            Assert.All(zip.Entries, e => Assert.Equal(new DateTime(1980, 1, 1), e.LastWriteTime.DateTime));

        using (var writer = new AdmSampleWriter(dir.File("c/samples.npz"), 2, 3, 5))
        using (var one = torch.zeros(1, 3, 3, 5))
        using (var label = torch.zeros(1, dtype: ScalarType.Int64))
            writer.Append(one, label);   // disposed before Complete, as when sampling fails
        Assert.Empty(Directory.GetFileSystemEntries(dir.File("c")));
    }

    [Fact]
    public async Task Numpy_loads_the_streamed_archive_with_the_arrays_written()
    {
        using var dir = new TempDir();
        var path = dir.File("samples.npz");
        var (images, labels) = WriteBatched(path);
        using var _ = images;
        using var __ = labels;
        var (pixels, _) = AdmSampleArchive.ToNhwcRgb(images);

        // numpy's own reader (Debian's python3-numpy for /usr/bin/python3, installed by .ci/run): arrays as hex, then the zip's CRC check.
        const string script = "import sys, zipfile, numpy as np\n"
            + "d = np.load(sys.argv[1])\n"
            + "print(sorted(d.files), d['arr_0'].dtype, d['arr_0'].shape, d['arr_1'].dtype)\n"
            + "print(d['arr_0'].tobytes().hex())\n"
            + "print(d['arr_1'].tobytes().hex())\n"
            + "print(zipfile.ZipFile(sys.argv[1]).testzip())\n";
        var psi = new ProcessStartInfo("/usr/bin/python3", ["-c", script, path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var python = Process.Start(psi) ?? throw new Xunit.Sdk.XunitException("python3 did not start");
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, $"python3 with numpy (apt-get install python3-numpy) could not load the archive: {stderr}");
        var lines = (await stdout).Split('\n');
        Assert.Equal("['arr_0', 'arr_1'] uint8 (11, 3, 5, 3) int64", lines[0]);
        Assert.Equal(Convert.ToHexStringLower(pixels), lines[1]);
        Assert.Equal(Convert.ToHexStringLower(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.data<long>().ToArray().AsSpan())), lines[2]);
        Assert.Equal("None", lines[3]);   // every entry's CRC-32 matches
    }
}
