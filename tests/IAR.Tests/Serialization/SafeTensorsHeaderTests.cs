using System.Text;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Serialization;

/// <summary>
/// Every field check of the safetensors header reader at its boundary (a value just inside is read, just outside is
/// refused with the reason), the order and listing of entries, and zero-sized tensors. Complements
/// Foundation/SafeTensorsTests with the cases Stryker's surviving mutants pointed at.
/// </summary>
public class SafeTensorsHeaderTests
{
    static string Write(TempDir dir, string header, int dataBytes, ulong? claimedLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes(claimedLength ?? (ulong)json.Length));
        bytes.AddRange(json);
        for (int i = 0; i < dataBytes; i++) bytes.Add((byte)i);
        var path = dir.File($"h-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    [Theory]
    [InlineData("{\"x\":[1]}", "the entry for 'x' is not an object")]
    [InlineData("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "'x' has no dtype")]
    [InlineData("{\"x\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", "'x' has no dtype")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "'x' has no shape")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", "'x' has no shape")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", "invalid shape [\"1\"]")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "invalid shape")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", "no valid data_offsets")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":4}}", "no valid data_offsets")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "no valid data_offsets")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "no valid data_offsets")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", "no valid data_offsets")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", "no valid data_offsets")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "data_offsets [-4, 0] outside the 8-byte")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,3]}}", "data_offsets [4, 3] outside")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[5,9]}}", "data_offsets [5, 9] outside the 8-byte")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", "shape too large to address")]
    [InlineData("{\"x\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", "shape too large to address")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", "(4 bytes) but 8 bytes")]
    [InlineData("{\"__metadata__\":[1]}", "__metadata__ is not an object")]
    public void A_malformed_entry_is_refused_with_its_reason(string header, string reason)
    {
        using var dir = new TempDir();
        var path = Write(dir, header, 8);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.StartsWith($"{path} is not a valid safetensors file: ", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Offsets_at_the_very_end_of_the_data_and_empty_tensors_are_read()
    {
        using var dir = new TempDir();
        // b ends exactly at the end of the data; two empty tensors share an offset (not an overlap); a scalar has shape [].
        var path = Write(dir, "{" + string.Join(",",
            Entry("b", "U8", "[4]", 4, 8), Entry("a", "U8", "[2,2]", 0, 4), Entry("e", "F32", "[0,3]", 4, 4),
            Entry("f", "F32", "[0]", 4, 4), Entry("s", "U8", "[]", 8, 9)) + ",\"__metadata__\":{\"k\":\"v\"}}", 9);
        var file = SafeTensorsFile.Open(path);
        Assert.Equal(["a", "b", "e", "f", "s"], file.Entries.Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal("a", file.Entries[0].Name);
        Assert.Equal("s", file.Entries[^1].Name);
        Assert.Equal(new byte[] { 4, 5, 6, 7 }, file.Load("b").data<byte>().ToArray());
        Assert.Equal([2L, 2L], file.Load("a").shape);
        Assert.Equal(new byte[] { 0, 1, 2, 3 }, file.Load("a").data<byte>().ToArray());
        Assert.Equal([0L, 3L], file.Load("e").shape);
        Assert.Equal(0, file.Entry("e").ElementCount);
        Assert.Equal(4, file.Entry("a").ElementCount);
        Assert.Equal(1, file.Entry("s").ElementCount);
        Assert.Equal((byte)8, file.Load("s").item<byte>());
        Assert.Equal("v", file.Metadata["k"]);
        Assert.Single(file.Metadata);
        Assert.Equal(new FileInfo(path).Length - 9, file.DataStart);
        Assert.Equal(5, file.LoadAll().Count);
    }

    [Fact]
    public void Adjacent_tensors_are_not_an_overlap_but_one_byte_more_is()
    {
        using var dir = new TempDir();
        SafeTensorsFile.Open(Write(dir, "{" + Entry("x", "U8", "[4]", 0, 4) + "," + Entry("y", "U8", "[4]", 4, 8) + "}", 8));
        var e = Assert.Throws<InvalidDataException>(() =>
            SafeTensorsFile.Open(Write(dir, "{" + Entry("y", "U8", "[4]", 3, 7) + "," + Entry("x", "U8", "[4]", 0, 4) + "}", 8)));
        Assert.Contains("the data of 'x' and 'y' overlap", e.Message);
    }

    [Fact]
    public void A_header_length_of_zero_or_past_the_file_is_refused_and_one_that_fits_exactly_is_read()
    {
        using var dir = new TempDir();
        Assert.Contains("header length 0 is outside 1..100000000",
            Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(Write(dir, "{}", 0, claimedLength: 0))).Message);
        Assert.Contains("its header claims 3 bytes but the file is truncated at 10 bytes",
            Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(Write(dir, "{}", 0, claimedLength: 3))).Message);
        Assert.Contains("header length 100000001",
            Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(Write(dir, "{}", 0, claimedLength: 100_000_001))).Message);
        var exact = SafeTensorsFile.Open(Write(dir, "{}", 0));
        Assert.Empty(exact.Entries);
        Assert.Equal(10, exact.DataStart);
        var eight = dir.File("eight.safetensors");
        File.WriteAllBytes(eight, new byte[8]);
        Assert.Contains("header length 0", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(eight)).Message);
        var seven = dir.File("seven.safetensors");
        File.WriteAllBytes(seven, new byte[7]);
        Assert.Contains("it has 7 bytes, fewer than the 8-byte header length", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(seven)).Message);
        Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(dir.File("absent.safetensors")));
    }

    [Fact]
    public void An_unknown_tensor_name_lists_what_the_file_has_abbreviated_after_eight()
    {
        using var dir = new TempDir();
        var path = dir.File("many.safetensors");
        var tensors = Enumerable.Range(0, 10).ToDictionary(i => $"t{i}", i => torch.full(1, (float)i));
        SafeTensorsWriter.Write(path, tensors);
        var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<InvalidDataException>(() => file.Entry("nope"));
        Assert.Contains("has no tensor 'nope'; it has: t0, t1, t2, t3, t4, t5, t6, t7 and 2 more.", e.Message);
        Assert.Equal(7f, file.Load("t7").item<float>());
        foreach (var t in tensors.Values) t.Dispose();

        var few = dir.File("few.safetensors");
        using (var one = torch.zeros(1)) SafeTensorsWriter.Write(few, new Dictionary<string, Tensor> { ["b"] = one, ["a"] = one.clone() });
        Assert.EndsWith("it has: a, b.", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(few).Entry("c")).Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(dir.File("absent.safetensors")));
        Assert.Equal($"Safetensors file '{dir.File("absent.safetensors")}' does not exist.", e.Message);
    }

    [Fact]
    public void A_header_of_exactly_the_largest_length_is_accepted_up_to_reading_it()
    {
        using var dir = new TempDir();
        Assert.Contains("its header claims 100000000 bytes but the file is truncated at 10 bytes",
            Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(Write(dir, "{}", 0, claimedLength: 100_000_000))).Message);
    }

    [Fact]
    public void A_file_cut_after_it_was_opened_names_the_tensor_it_cannot_read()
    {
        using var dir = new TempDir();
        var path = Write(dir, "{" + Entry("x", "F32", "[2]", 0, 8) + "}", 8);
        var file = SafeTensorsFile.Open(path);
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(stream.Length - 4);
        Assert.Equal($"{path} is not a valid safetensors file: tensor 'x' is truncated.", Assert.Throws<InvalidDataException>(() => file.Load("x")).Message);
    }

    [Fact]
    public void Header_messages_list_the_dtypes_and_give_shapes_and_byte_counts()
    {
        using var dir = new TempDir();
        string RefusedHeader(string entry) => Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(Write(dir, "{" + entry + "}", 8))).Message;
        Assert.EndsWith($"'x' has dtype F8; accepted: {string.Join(", ", SafeTensorsDType.Names)}.", RefusedHeader(Entry("x", "F8", "[1]", 0, 1)));
        Assert.EndsWith("'x' has shape [2, 3] of F32 (24 bytes) but 4 bytes of data.", RefusedHeader(Entry("x", "F32", "[2,3]", 4, 8)));
        // 2^32 × 2^32 wraps to 0 elements unchecked, which would match empty offsets.
        Assert.EndsWith("'x' has a shape too large to address.", RefusedHeader(Entry("x", "F32", "[4294967296,4294967296]", 0, 0)));
    }

    [Fact]
    public void Eight_tensor_names_are_all_listed()
    {
        using var dir = new TempDir();
        var path = Write(dir, "{" + string.Join(",", Enumerable.Range(0, 8).Select(i => Entry($"t{i}", "U8", "[1]", i, i + 1))) + "}", 8);
        Assert.EndsWith("it has: t0, t1, t2, t3, t4, t5, t6, t7.", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path).Entry("nope")).Message);
    }
}
