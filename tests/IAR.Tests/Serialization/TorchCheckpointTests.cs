using System.Text;
using IAR.Host.Iar;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Serialization;

/// <summary>
/// Checkpoints written by real PyTorch 1.13 (tests/fixtures/checkpoints/make_checkpoints.py) against safetensors twins
/// written by the same script, byte for byte; a hostile pickle and a truncated zip.
/// </summary>
public class TorchCheckpointTests
{
    static string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "checkpoints", name);

    /// <summary>The marker file the hostile pickle's os.system call would create.</summary>
    const string HostileMarker = "/tmp/iar-hostile-pickle-ran";

    [Theory]
    [InlineData("llamagen-gpt.pt", "model")]
    [InlineData("llamagen-ema.pt", "model")]
    [InlineData("deepspeed-module.pt", "module")]
    [InlineData("fsdp-state-dict.pt", "state_dict")]
    [InlineData("var-bare.pth", null)]
    public void Every_official_layout_matches_its_safetensors_twin_exactly(string file, string? entry)
    {
        using var twin = CheckpointFile.Read(Fixture("state-dict.safetensors"));
        using var read = CheckpointFile.Read(Fixture(file));
        Assert.Equal(entry is null ? "PyTorch state dict" : $"PyTorch checkpoint, entry '{entry}'", read.Described);
        AssertSameTensors(twin.Tensors, read.Tensors);
    }

    [Fact]
    public void The_ema_entry_is_read_when_asked_for()
    {
        using var twin = CheckpointFile.Read(Fixture("ema.safetensors"));
        using var read = CheckpointFile.Read(Fixture("llamagen-ema.pt"), entry: "ema");
        AssertSameTensors(twin.Tensors, read.Tensors);
    }

    [Fact]
    public void Views_sharing_a_storage_and_strided_views_are_copied_out_with_their_own_values()
    {
        using var read = CheckpointFile.Read(Fixture("var-bare.pth"));
        var t = read.Tensors;
        Assert.Equal(Enumerable.Range(5, 6).Select(i => (float)i), t["view.offset"].data<float>().ToArray());
        Assert.Equal(new long[] { 4, 3 }, t["view.strided"].shape);
        Assert.Equal(new float[] { 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22 }, t["view.strided"].data<float>().ToArray());
        Assert.True(t["view.transposed"].is_contiguous());
        Assert.Equal(new long[] { 5, 3 }, t["view.transposed"].shape);
        Assert.Equal(ScalarType.BFloat16, t["dtype.bf16"].dtype);
        Assert.Equal(-(1L << 40), t["dtype.i64"].data<long>()[0]);
        Assert.Equal(new long[] { 0, 4 }, t["empty"].shape);
        Assert.Empty(t["scalar"].shape);
    }

    [Fact]
    public void Training_metadata_beside_the_weights_becomes_strings()
    {
        using var read = CheckpointFile.Read(Fixture("llamagen-gpt.pt"));
        Assert.Equal("12345", read.Metadata["torch.steps"]);
        var args = System.Text.Json.JsonDocument.Parse(read.Metadata["torch.args"]).RootElement;
        Assert.Equal("GPT-B", args.GetProperty("gpt_model").GetString());
        Assert.Equal(16, args.GetProperty("vocab_size").GetInt32());
        Assert.Equal(0.95, args.GetProperty("betas")[1].GetDouble());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, args.GetProperty("data_path").ValueKind);
    }

    [Fact]
    public void The_iar_mapping_becomes_the_permutation_it_encodes()
    {
        var twin = SafeTensorsFile.Open(Fixture("mapping-test.safetensors"));
        using var newToOld = twin.Load("new_to_old");
        var expected = CodebookPermutation.FromTensor(newToOld);
        var read = OfficialMapping.Read(Fixture("mapping-test.pt"), expectedCount: 32);
        Assert.Equal(expected.NewToOld, read.NewToOld);
        Assert.Equal(expected.Hash, read.Hash);
        // The permutation loader used by YAML iar.permutation takes the .pt as well.
        var (loaded, layout) = CodebookPermutation.Load(Fixture("mapping-test.pt"), 32);
        Assert.Equal(expected.Hash, loaded.Hash);
        Assert.Null(layout);
    }

    [Fact]
    public void A_mapping_for_another_codebook_size_is_refused_by_name()
    {
        var e = Assert.Throws<InvalidDataException>(() => OfficialMapping.Read(Fixture("mapping-test.pt"), expectedCount: 64));
        Assert.Contains("maps 32 codes but the codebook has 64", e.Message);
    }

    [Fact]
    public void A_hostile_pickle_is_refused_naming_the_global_and_runs_nothing()
    {
        File.Delete(HostileMarker);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(Fixture("hostile.pt")));
        Assert.Contains("'posix.system'", e.Message);
        Assert.Contains("nothing was executed", e.Message);
        Assert.False(File.Exists(HostileMarker));
    }

    [Fact]
    public void A_truncated_checkpoint_gives_one_clear_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(Fixture("truncated.pt")));
        Assert.Contains("truncated.pt is not a complete PyTorch checkpoint", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData("cos\nsystem\n(S'touch /tmp/x'\ntR.", "'os.system'")]
    [InlineData("cbuiltins\neval\n(S'1'\ntR.", "'builtins.eval'")]
    [InlineData("\u008c\u0002os\u008c\u0006system\u0093.", "'os.system'")]          // STACK_GLOBAL (protocol 4)
    [InlineData("ctorch\nFloatStorage\n)R.", "only accepted as a storage type")]    // calling a storage type
    public void Globals_off_the_list_are_refused_before_anything_is_applied(string pickle, string named)
    {
        using var dir = new TempDir();
        var path = HandPickle.Zip(dir.File("hand.pt"), Encoding.Latin1.GetBytes(pickle));
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(path));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void A_view_reaching_past_its_storage_is_refused()
    {
        // _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', 2), offset 1, size (4,), stride (1,), False, OrderedDict())
        var pickle = "\u0080\u0002}q\u0000X\u0001\u0000\u0000\u0000wctorch._utils\n_rebuild_tensor_v2\n((X\u0007\u0000\u0000\u0000storagectorch\nFloatStorage\nX\u0001\u0000\u0000\u00000X\u0003\u0000\u0000\u0000cpuK\u0002tQK\u0001K\u0004\u0085K\u0001\u0085\u0089ccollections\nOrderedDict\n)RtRs.";
        using var dir = new TempDir();
        var path = HandPickle.Zip(dir.File("bad.pt"), Encoding.Latin1.GetBytes(pickle), ("data/0", new byte[8]));
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(path));
        Assert.Contains("reaches element 4 of storage '0', which has 2", e.Message);
    }

    [Fact]
    public void StateDict_load_takes_a_pt_file_like_a_safetensors_file()
    {
        using var module = nn.Linear(8, 16, hasBias: false);
        using var dir = new TempDir();
        // Only the output weight: a Linear(8, 16) under the key "weight".
        using (var sd = CheckpointFile.Read(Fixture("var-bare.pth")))
            SafeTensorsWriter.Write(dir.File("w.safetensors"), [new("weight", sd.Tensors["output.weight"])]);
        StateDict.Load(module, dir.File("w.safetensors"), "Linear");
        using var fromSafetensors = module.weight!.detach().clone();
        var e = Assert.Throws<InvalidDataException>(() => StateDict.Load(module, Fixture("var-bare.pth"), "Linear"));
        Assert.Contains("unexpected keys", e.Message);   // the whole Tiny state dict does not fit a Linear: named, not ignored
        Assert.True(fromSafetensors.abs().sum().item<float>() > 0);
    }

    static void AssertSameTensors(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            Assert.True(e.dtype == a.dtype, $"{name}: {a.dtype} where the twin has {e.dtype}");
            Assert.Equal(e.shape, a.shape);
            Assert.True(e.bytes.SequenceEqual(a.bytes), $"{name}: the bytes differ from the twin");
        }
    }
}
