using System.IO.Compression;
using System.Text;
using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Serialization;

/// <summary>
/// What a torch.save zip must hold, on hand-built files (<see cref="HandPickle"/>): each way a file is not a checkpoint
/// gives one sentence naming the file and what it has (and leaves the file closed); where the weights are looked for;
/// how storages are checked against their persistent ids, charged to the budget and read in chunks.
/// </summary>
public class TorchCheckpointStructureTests
{
    static string Zip(TempDir dir, HandPickle pickle, params (string Name, byte[] Data)[] more) =>
        HandPickle.Zip(dir.File("c.pt"), pickle.Stop(), more);

    static string Refused(string path, LoadBudget? budget = null) =>
        Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Open(path, budget).Dispose()).Message;

    static string RefusedWeights(string path, string? entry = null)
    {
        using var checkpoint = TorchCheckpoint.Open(path);
        return Assert.Throws<InvalidDataException>(() => checkpoint.StateDict(entry)).Message;
    }

    /// <summary>Whether nothing holds the file open (.NET's FileShare.None takes an exclusive lock on Linux too).</summary>
    static void AssertReleased(string path)
    {
        using var exclusive = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => TorchCheckpoint.Open(dir.File("absent.pt")));
        Assert.Equal($"Checkpoint '{dir.File("absent.pt")}' does not exist.", e.Message);
    }

    [Fact]
    public void A_legacy_pickle_file_is_told_apart_from_a_truncated_zip_and_left_closed()
    {
        using var dir = new TempDir();
        var legacy = dir.File("legacy.pt");
        File.WriteAllBytes(legacy, new HandPickle().Dict().Stop());   // torch.save before 1.6 wrote a bare pickle
        Assert.StartsWith($"{legacy} is not a zip-format PyTorch checkpoint (legacy torch.save before 1.6", Refused(legacy));
        AssertReleased(legacy);
    }

    [Fact]
    public void A_zip_without_one_pickle_is_not_a_checkpoint_and_is_left_closed()
    {
        using var dir = new TempDir();
        var path = dir.File("other.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create)) zip.CreateEntry("archive/readme.txt");
        Assert.Equal($"{path} is a zip but not a PyTorch checkpoint: it has 0 PREFIX/data.pkl entries where torch.save writes one.", Refused(path));
        AssertReleased(path);
    }

    [Fact]
    public void A_refused_pickle_leaves_the_file_closed()
    {
        using var dir = new TempDir();
        var path = Zip(dir, new HandPickle().Global("os", "system"));
        Assert.Contains("'os.system'", Refused(path));
        AssertReleased(path);
    }

    [Fact]
    public void A_big_endian_checkpoint_is_refused_by_its_byteorder_entry()
    {
        using var dir = new TempDir();
        var path = Zip(dir, new HandPickle().Dict(), ("byteorder", "big"u8.ToArray()));
        Assert.Equal($"{path} stores its tensors big-endian; only little-endian checkpoints are read (re-save it on a little-endian machine).", Refused(path));
    }

    [Fact]
    public void A_bare_tensor_is_not_a_state_dict()
    {
        using var dir = new TempDir();
        var path = Zip(dir, new HandPickle().Tensor("0", 6, [2, 3]), ("data/0", new byte[24]));
        Assert.Equal($"{path} holds a tensor [2, 3] Float32, not a dict of tensors.", RefusedWeights(path));
    }

    [Fact]
    public void Without_weights_every_entry_is_named_with_what_it_holds()
    {
        using var dir = new TempDir();
        var path = Zip(dir, new HandPickle().Dict(
                ("steps", p => p.Int(5)),
                ("empty", p => p.Dict()),
                ("mixed", p => p.Dict(("w", q => q.Tensor("0", 2, [2])), ("n", q => q.Int(1)))),
                ("weights", p => p.Dict(("w", q => q.Tensor("0", 2, [2])))),
                ("names", p => p.List(2, (q, i) => q.Text($"n{i}"))),
                ("args", p => p.Namespace()),
                ("none", p => p.Op('N'))),
            ("data/0", new byte[8]));
        Assert.Equal(
            $"{path} is neither a state dict nor has one under 'model', 'module', 'state_dict', 'ema'; its entries: " +
            "'steps' (Int64), 'empty' (dict of 0), 'mixed' (dict of 2), 'weights' (dict of 1 tensors), 'names' (list of 2), " +
            "'args' (argparse.Namespace), 'none' (None).", RefusedWeights(path));
        var empty = dir.File("empty.pt");
        Assert.Equal($"{empty} is neither a state dict nor has one under 'model', 'module', 'state_dict', 'ema'; its entries: .",
            RefusedWeights(HandPickle.Zip(empty, new HandPickle().Dict().Stop())));
    }

    [Fact]
    public void Twelve_entries_are_named_and_more_are_counted()
    {
        using var dir = new TempDir();
        string Entries(int count) =>
            RefusedWeights(HandPickle.Zip(dir.File($"{count}.pt"),
                new HandPickle().Dict([.. Enumerable.Range(0, count).Select(i => ($"k{i}", (Action<HandPickle>)(p => p.Int(i))))]).Stop()));
        var twelve = string.Join(", ", Enumerable.Range(0, 12).Select(i => $"'k{i}' (Int64)"));
        Assert.EndsWith($"its entries: {twelve}.", Entries(12));
        Assert.EndsWith($"its entries: {twelve} and 1 more.", Entries(13));
    }

    [Fact]
    public void Weights_are_found_under_ema_and_a_root_mixing_tensors_and_entries_is_not_itself_a_state_dict()
    {
        using var dir = new TempDir();
        var ema = Zip(dir, new HandPickle().Dict(("ema", p => p.Dict(("w", q => q.Tensor("0", 2, [2]))))), ("data/0", HandPickle.Floats(1, 2)));
        using (var checkpoint = TorchCheckpoint.Open(ema))
        {
            var (entry, tensors) = checkpoint.StateDict();
            Assert.Equal("ema", entry);
            Assert.Equal(new float[] { 1, 2 }, tensors["w"].data<float>().ToArray());
        }

        var mixed = HandPickle.Zip(dir.File("mixed.pt"), new HandPickle().Dict(
            ("model", p => p.Dict(("a", q => q.Tensor("0", 2, [2])))),
            ("extra", p => p.Tensor("0", 2, [2]))).Stop(), ("data/0", HandPickle.Floats(1, 2)));
        using (var checkpoint = TorchCheckpoint.Open(mixed))
        {
            var (entry, tensors) = checkpoint.StateDict();
            Assert.Equal("model", entry);
            Assert.Equal(["a"], tensors.Keys);
        }
    }

    [Fact]
    public void A_persistent_id_must_name_a_torch_storage_that_the_zip_holds_with_its_size()
    {
        using var dir = new TempDir();
        var blob = Zip(dir, new HandPickle().Op('(').Text("blob").Global("torch", "FloatStorage").Text("0").Text("cpu").Int(2).Op('t').Op('Q'));
        var e = Refused(blob);
        Assert.StartsWith($"{blob} has a persistent id (blob, ", e);
        Assert.EndsWith("not ('storage', type, key, location, numel).", e);

        var typed = HandPickle.Zip(dir.File("typed.pt"),
            new HandPickle().Op('(').Text("storage").Global("collections", "OrderedDict").Text("0").Text("cpu").Int(2).Op('t').Op('Q').Stop());
        Assert.Equal($"{typed} has a storage of type collections.OrderedDict; accepted: {string.Join(", ", PickleGlobals.StorageTypes.Keys)}.", Refused(typed));

        var lacking = HandPickle.Zip(dir.File("lacking.pt"), new HandPickle().Tensor("0", 2, [2]).Stop());
        Assert.Equal($"{lacking} lacks the storage entry archive/data/0 that its pickle refers to; the file is incomplete.", Refused(lacking));

        var short_ = HandPickle.Zip(dir.File("short.pt"), new HandPickle().Tensor("0", 2, [2]).Stop(), ("data/0", new byte[4]));
        Assert.Equal($"{short_}: storage 0 should hold 2 elements of Float32 (8 bytes) but has 4 bytes.", Refused(short_));
    }

    [Fact]
    public void A_storage_is_charged_to_the_budget_when_it_is_read()
    {
        using var dir = new TempDir();
        var path = Zip(dir, new HandPickle().Dict(("w", p => p.Tensor("0", 1 << 16, [1 << 16]))), ("data/0", new byte[4 << 16]));
        using var checkpoint = TorchCheckpoint.Open(path, LoadBudget.Fixed("c.pt", 64 << 10));   // the pickle fits, 256 KiB do not
        var e = Assert.Throws<InvalidDataException>(() => checkpoint.StateDict());
        Assert.StartsWith("c.pt needs 262144 bytes for storage 0, ", e.Message);
    }

    [Fact]
    public void A_storage_larger_than_one_read_is_read_in_chunks_up_to_its_last_partial_one()
    {
        using var dir = new TempDir();
        var values = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();
        var path = Zip(dir, new HandPickle().Dict(("w", p => p.Tensor("0", 10, [10])), ("tail", p => p.Tensor("0", 10, [3], offset: 7))),
            ("data/0", HandPickle.Floats(values)));
        foreach (long chunkBytes in new long[] { 12, 8, 1, 1L << 28 })   // 3 elements (3+3+3+1), 2 (5×2), under one element, all at once
        {
            using var checkpoint = TorchCheckpoint.Open(path);
            checkpoint.StorageChunkBytes = chunkBytes;
            var (_, tensors) = checkpoint.StateDict();
            Assert.Equal(values, tensors["w"].data<float>().ToArray());
            Assert.Equal(new float[] { 7, 8, 9 }, tensors["tail"].data<float>().ToArray());
        }
    }

    [Fact]
    public void A_storage_whose_data_ends_early_is_refused_as_truncated()
    {
        // A deflated storage of 4 floats whose zip directory claims 8: the entry's length agrees with the pickle, its data do not.
        using var dir = new TempDir();
        var path = dir.File("short-data.pt");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
                s.Write(new HandPickle().Dict(("w", p => p.Tensor("0", 8, [8]))).Stop());
            using (var s = zip.CreateEntry("archive/data/0", CompressionLevel.Optimal).Open())
                s.Write(HandPickle.Floats(1, 2, 3, 4));
        }
        var bytes = File.ReadAllBytes(path);
        var name = Encoding.ASCII.GetBytes("archive/data/0");
        for (int i = 0; i + 46 < bytes.Length; i++)
        {
            bool local = BitConverter.ToUInt32(bytes, i) == 0x04034b50 && bytes.AsSpan(i + 30).StartsWith(name);
            bool central = BitConverter.ToUInt32(bytes, i) == 0x02014b50 && bytes.AsSpan(i + 46).StartsWith(name);
            if (local) BitConverter.GetBytes(32u).CopyTo(bytes, i + 22);     // uncompressed size
            if (central) BitConverter.GetBytes(32u).CopyTo(bytes, i + 24);
        }
        File.WriteAllBytes(path, bytes);
        using var checkpoint = TorchCheckpoint.Open(path);
        var e = Assert.Throws<InvalidDataException>(() => checkpoint.StateDict());
        Assert.StartsWith($"{path}: storage 0 cannot be read completely (", e.Message);
        Assert.EndsWith("); the file is probably truncated or corrupt.", e.Message);
    }

    [Fact]
    public void A_strided_view_is_charged_for_its_copy_and_named_by_its_shape()
    {
        using var dir = new TempDir();
        var wide = Zip(dir, new HandPickle().Dict(("w", p => p.Tensor("0", 1, [1 << 20, 1 << 10], stride: [0, 0]))), ("data/0", new byte[4]));
        using (var checkpoint = TorchCheckpoint.Open(wide))
            Assert.StartsWith($"{wide} needs 4 GiB for a contiguous copy of a strided view [1048576, 1024] of storage 0, ",
                Assert.Throws<InvalidDataException>(() => checkpoint.StateDict()).Message);

        var huge = HandPickle.Zip(dir.File("huge.pt"), new HandPickle().Dict(("w", p => p.Tensor("0", 1, [1L << 62], stride: [0]))).Stop(), ("data/0", new byte[4]));
        using (var checkpoint = TorchCheckpoint.Open(huge))
            Assert.Equal($"{huge} gives a strided view a size (4611686018427387904 × 4 bytes) too large to address.",
                Assert.Throws<InvalidDataException>(() => checkpoint.StateDict()).Message);
    }
}
