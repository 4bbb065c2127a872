using IAR.Host.Serialization;
using IAR.Tests.Support;
using static TorchSharp.torch;

namespace IAR.Tests.Serialization;

/// <summary>
/// The hostile checkpoints of issue 25 (tests/fixtures/checkpoints/make_hostile.py: real torch.save where PyTorch can
/// write the shape, hand-built pickle bytes where it cannot): each gives one clear error naming the file, or loads
/// correctly within the budget. None may end the process (a StackOverflowException here would take the test host down).
/// </summary>
public class TorchCheckpointHostileTests
{
    static string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "checkpoints", "hostile", name);

    [Fact]
    public void An_expanded_view_of_one_element_is_refused_before_32_GiB_are_asked_for()
    {
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(Fixture("expanded.pt")));
        Assert.StartsWith(Fixture("expanded.pt") + " needs 32 GiB for a contiguous copy of a strided view [8589934592]", e.Message);
        Assert.Contains(LoadBudget.EnvironmentVariable, e.Message);
    }

    [Fact]
    public void An_iar_mapping_of_no_codes_is_refused_as_data_not_as_an_argument()
    {
        // fuzz/run's permutation target found it: the empty permutation escaped as an ArgumentException.
        var e = Assert.Throws<InvalidDataException>(() => IAR.Host.Iar.CodebookPermutation.Load(Fixture("empty-mapping.pt")));
        Assert.Equal(Fixture("empty-mapping.pt") + " maps no codes; an IAR mapping is one int64 tensor [V] with V ≥ 1 (old index → new index).", e.Message);
    }

    [Fact]
    public void A_small_expanded_view_is_materialised_within_the_budget()
    {
        using var read = CheckpointFile.Read(Fixture("expanded-small.pt"));
        var x = read.Tensors["x"];
        Assert.Equal(new long[] { 1000 }, x.shape);
        Assert.True(x.is_contiguous());
        Assert.Equal(0f, x.abs().sum().item<float>());
    }

    [Fact]
    public void Keys_sharing_one_storage_are_views_of_one_read()
    {
        using var read = CheckpointFile.Read(Fixture("shared.pt"));
        Assert.Equal(64, read.Tensors.Count);
        foreach (var t in read.Tensors.Values) Assert.Equal(new float[] { 0, 1, 2, 3 }, t.data<float>().ToArray());
        // One read: writing through one key shows through every other.
        read.Tensors["k0"].add_(10);
        foreach (var t in read.Tensors.Values) Assert.Equal(new float[] { 10, 11, 12, 13 }, t.data<float>().ToArray());
    }

    [Fact]
    public void A_budget_smaller_than_the_storages_refuses_the_file_by_name()
    {
        // The pickle of 64 keys fits in 64 KiB; the same file with a budget of 1 KiB is refused while reading it.
        using (var checkpoint = TorchCheckpoint.Open(Fixture("shared.pt"), LoadBudget.Fixed("shared.pt", 64 << 10)))
            checkpoint.StateDict().Tensors.Values.ToList().ForEach(t => t.Dispose());
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Open(Fixture("shared.pt"), LoadBudget.Fixed("shared.pt", 1024)));
        Assert.StartsWith("shared.pt needs 64 bytes for a pickle object, which would take its reader past the budget of 1024 bytes", e.Message);
    }

    [Fact]
    public void A_million_nested_tuples_are_refused_without_recursing()
    {
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(Fixture("nested-tuples.pt")));
        Assert.Equal($"{Fixture("nested-tuples.pt")} is not a readable PyTorch pickle: its tuples nest deeper than {RestrictedUnpickler.MaxTupleNesting} levels.", e.Message);
    }

    [Fact]
    public void A_list_holding_itself_twice_becomes_bounded_metadata()
    {
        using var read = CheckpointFile.Read(Fixture("self-list.pt"));
        var args = read.Metadata["torch.args"];
        Assert.True(args.Length < 1_000_000, $"torch.args has {args.Length} characters");
        using var json = System.Text.Json.JsonDocument.Parse(args);
        Assert.Equal("<cycle>", json.RootElement.GetProperty("cyclic")[0].GetString());
        Assert.Equal(new float[] { 1, 1 }, read.Tensors["w"].data<float>().ToArray());
    }

    [Fact]
    public void Two_million_marks_are_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(Fixture("marks.pt")));
        Assert.EndsWith("it opens more than 1000000 MARKs.", e.Message);
    }

    [Fact]
    public void A_storage_size_that_overflows_is_refused_by_checked_arithmetic()
    {
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(Fixture("huge-count.pt")));
        Assert.EndsWith("gives storage 0 a size (4611686018427387904 × 8 bytes) too large to address.", e.Message);
    }

    [Fact]
    public void A_deep_tuple_in_an_error_message_is_shortened()
    {
        var deep = new PickleTuple([null]);
        for (int i = 0; i < 50; i++) deep = new PickleTuple([deep, 1L]);
        var text = deep.ToString();
        Assert.True(text.Length <= 200, text);
        Assert.Contains("(…)", text);
        Assert.Equal(51, deep.Depth);
        Assert.False(new PickleTuple([new List<object?>()]).IsHashable);
    }
}
