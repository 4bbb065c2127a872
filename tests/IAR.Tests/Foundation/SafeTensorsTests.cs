using IAR.ContractTests;
using System.Text;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Foundation;

public class SafeTensorsTests
{
    [Fact]
    public void Reads_a_file_written_by_the_python_safetensors_package()
    {
        var file = SafeTensorsFile.Open(Path.Combine(RepoPaths.Root, "tests/fixtures/safetensors/written-by-python.safetensors"));
        using var logits = file.Load("logits");
        using var targets = file.Load("targets");
        Assert.Equal(new long[] { 4, 10, 64 }, logits.shape);
        Assert.Equal(ScalarType.Int64, targets.dtype);
        // first values, read independently with Python's struct module
        Assert.Equal(0.4328545928001404f, logits[0, 0, 0].item<float>());
        Assert.Equal(-5.780414581298828f, logits[0, 0, 4].item<float>());
        Assert.Equal(new long[] { 8, 14, 37, 53, 31 }, targets[0, ..5].data<long>().ToArray());
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Byte)]
    [InlineData(ScalarType.Bool)]
    public void Round_trips_every_supported_dtype_with_metadata(ScalarType dtype)
    {
        using var dir = new TempDir();
        using var g = new torch.Generator(1);
        using var source = (torch.randn([3, 5, 2], generator: g) * 10).to(dtype);
        using var scalar = torch.tensor(2.5f);
        using var empty = torch.zeros([0, 4]);
        var path = dir.File("t.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = source, ["s"] = scalar, ["e"] = empty },
            new Dictionary<string, string> { ["config"] = "{\"a\": 1}" });

        var file = SafeTensorsFile.Open(path);
        Assert.Equal("{\"a\": 1}", file.Metadata["config"]);
        using var x = file.Load("x");
        Assert.Equal(dtype, x.dtype);
        TensorAssert.Identical(x, source);
        using var s = file.Load("s");
        Assert.Empty(s.shape);
        Assert.Equal(2.5f, s.item<float>());
        using var e = file.Load("e");
        Assert.Equal(new long[] { 0, 4 }, e.shape);
        var headerLength = BitConverter.ToUInt64(File.ReadAllBytes(path), 0);
        Assert.Equal(0UL, headerLength % 8);
    }

    static string WriteRaw(TempDir dir, string header, int dataBytes, ulong? claimedLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes(claimedLength ?? (ulong)json.Length));
        bytes.AddRange(json);
        bytes.AddRange(new byte[dataBytes]);
        var path = dir.File($"bad-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    [Theory]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "not valid JSON")]
    [InlineData("[1,2]", 0, "not a JSON object")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "outside the 8-byte data section")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "12 bytes) but 8 bytes")]
    [InlineData("{\"x\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype Q4; accepted: F32")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "invalid shape")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap")]
    [InlineData("{\"__metadata__\":{\"a\":1}}", 0, "__metadata__.a is not a string")]
    public void Malformed_headers_are_rejected_with_the_reason(string header, int dataBytes, string reason)
    {
        using var dir = new TempDir();
        var path = WriteRaw(dir, header, dataBytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(reason, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Truncated_files_and_absurd_header_lengths_are_rejected()
    {
        using var dir = new TempDir();
        var tiny = dir.File("tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        Assert.Contains("fewer than the 8-byte", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(tiny)).Message);

        var huge = WriteRaw(dir, "{}", 0, claimedLength: 1UL << 40);
        Assert.Contains("outside 1..", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(huge)).Message);

        var good = dir.File("good.safetensors");
        using (var t = torch.ones(100)) SafeTensorsWriter.Write(good, new Dictionary<string, Tensor> { ["x"] = t });
        var bytes = File.ReadAllBytes(good);
        var cut = dir.File("cut.safetensors");
        File.WriteAllBytes(cut, bytes[..^40]);
        Assert.Contains("outside the", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(cut)).Message);
        var cutHeader = dir.File("cut-header.safetensors");
        File.WriteAllBytes(cutHeader, bytes[..20]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(cutHeader)).Message);
    }

    [Fact]
    public void Writing_replaces_the_file_atomically_and_leaves_no_temp_files()
    {
        using var dir = new TempDir();
        var path = dir.File("w.safetensors");
        using var a = torch.ones(3);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["a"] = a });
        using var b = torch.zeros(5);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["b"] = b });
        Assert.Equal(["w.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        Assert.False(SafeTensorsFile.Open(path).Contains("a"));
    }

    sealed class Tiny : nn.Module
    {
        public readonly nn.Module<Tensor, Tensor> proj;
        public readonly nn.Module<Tensor, Tensor> norm;

        public Tiny(int inDim) : base("Tiny")
        {
            proj = nn.Linear(inDim, 3);
            norm = nn.LayerNorm(3);
            RegisterComponents();
        }
    }

    [Fact]
    public void State_dict_loading_names_missing_unexpected_and_misshaped_keys()
    {
        using var dir = new TempDir();
        var model = new Tiny(4);
        var tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        tensors.Remove("norm.bias");
        tensors["extra.weight"] = torch.ones(2);
        tensors["proj.weight"] = torch.ones(3, 5);
        var e = Assert.Throws<InvalidDataException>(() => StateDict.Load(new Tiny(4), tensors, "ckpt.safetensors", "Tiny"));
        Assert.Contains("missing keys: norm.bias", e.Message);
        Assert.Contains("unexpected keys: extra.weight", e.Message);
        Assert.Contains("proj.weight [3, 5] where the model has [3, 4]", e.Message);
    }

    [Fact]
    public void State_dict_round_trips_and_tolerates_the_torch_compile_prefix()
    {
        using var dir = new TempDir();
        var source = new Tiny(4);
        var path = dir.File("m.safetensors");
        SafeTensorsWriter.Write(path, source.state_dict().ToDictionary(kv => StateDict.CompiledPrefix + kv.Key, kv => kv.Value));
        var target = new Tiny(4);
        StateDict.Load(target, path, "Tiny");
        foreach (var (key, value) in source.state_dict())
            TensorAssert.Identical(value, target.state_dict()[key], key);
    }
}
