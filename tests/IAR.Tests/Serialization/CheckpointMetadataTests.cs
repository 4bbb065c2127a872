using System.Text.Json;
using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Serialization;

/// <summary>
/// The training args beside the weights become one JSON string (<c>torch.args</c>) with bounded work: 32 levels, 10 000
/// values, a container inside itself written as "&lt;cycle&gt;". Each bound is met exactly (kept) and passed by one
/// (cut), on hand-built pickles (<see cref="HandPickle"/>).
/// </summary>
public class CheckpointMetadataTests
{
    const int Depth = 32, Values = 10_000;

    static Dictionary<string, string> MetadataOf(byte[] pickle, params (string Name, byte[] Data)[] storages)
    {
        using var dir = new TempDir();
        using var checkpoint = TorchCheckpoint.Open(HandPickle.Zip(dir.File("m.pt"), pickle, storages));
        return checkpoint.Metadata();
    }

    /// <summary>The JSON of an <c>args</c> Namespace with these fields (the dict of fields is value 1, at depth 0).</summary>
    static JsonElement Args(params (string, Action<HandPickle>)[] fields) =>
        JsonDocument.Parse(MetadataOf(new HandPickle().Dict(("args", a => a.Namespace(fields))).Stop())["torch.args"]).RootElement.Clone();

    static void NestedLists(HandPickle p, int levels)
    {
        if (levels == 0) p.Int(7);
        else p.List(1, (q, _) => NestedLists(q, levels - 1));
    }

    static void NestedDicts(HandPickle p, int levels)
    {
        if (levels == 0) p.Int(7);
        else p.Dict(("d", q => NestedDicts(q, levels - 1)));
    }

    [Fact]
    public void Lists_are_written_32_levels_deep_and_what_lies_deeper_is_an_ellipsis()
    {
        // The field's list is at depth 1; 31 lists put the number at depth 32 (kept), 32 lists put it at 33 (cut).
        var kept = Args(("deep", p => NestedLists(p, Depth - 1))).GetProperty("deep");
        for (int level = 1; level < Depth; level++) kept = Assert.Single(kept.EnumerateArray());
        Assert.Equal(7, kept.GetInt64());

        var cut = Args(("deep", p => NestedLists(p, Depth + 8))).GetProperty("deep");
        for (int level = 1; level <= Depth; level++) cut = Assert.Single(cut.EnumerateArray());
        Assert.Equal("…", cut.GetString());
    }

    [Fact]
    public void Dicts_are_written_32_levels_deep_and_what_lies_deeper_is_an_ellipsis()
    {
        var kept = Args(("d", p => NestedDicts(p, Depth - 1))).GetProperty("d");
        for (int level = 1; level < Depth; level++) kept = kept.GetProperty("d");
        Assert.Equal(7, kept.GetInt64());

        var cut = Args(("d", p => NestedDicts(p, Depth + 8))).GetProperty("d");
        for (int level = 1; level <= Depth; level++) cut = cut.GetProperty("d");
        Assert.Equal("…", cut.GetString());
    }

    [Fact]
    public void A_list_is_written_up_to_10000_values_in_all_then_one_ellipsis()
    {
        // Values: the fields dict (1), the list (2), its items (3 …): 9 998 items make exactly 10 000.
        var exact = Args(("v", p => p.List(Values - 2, (q, i) => q.Int(i)))).GetProperty("v");
        Assert.Equal(Values - 2, exact.GetArrayLength());
        Assert.Equal(Values - 3, exact[Values - 3].GetInt64());

        foreach (int items in new[] { Values - 1, Values + 1 })
        {
            var cut = Args(("v", p => p.List(items, (q, i) => q.Int(i)))).GetProperty("v");
            Assert.Equal(Values - 1, cut.GetArrayLength());
            Assert.Equal(Values - 3, cut[Values - 3].GetInt64());
            Assert.Equal("…", cut[Values - 2].GetString());
        }
    }

    [Fact]
    public void A_dict_stops_at_10000_values_in_all()
    {
        // The fields dict is value 1; its first 9 999 fields make 10 000, and the rest are left out.
        var fields = Enumerable.Range(0, Values + 1).Select(i => ($"k{i}", (Action<HandPickle>)(p => p.Int(i)))).ToArray();
        var args = Args(fields);
        Assert.Equal(Values - 1, args.EnumerateObject().Count());
        Assert.Equal(Values - 2, args.GetProperty($"k{Values - 2}").GetInt64());
        Assert.False(args.TryGetProperty($"k{Values - 1}", out _));
    }

    [Fact]
    public void A_list_inside_itself_is_a_cycle_but_a_list_met_twice_is_written_twice()
    {
        // l = [l, 1]: EMPTY_LIST, memo 0, MARK, the memo's list, 1, APPENDS.
        var cyclic = Args(("l", p => p.Op(']').Put(0).Op('(').Get(0).Int(1).Op('e'))).GetProperty("l");
        Assert.Equal(2, cyclic.GetArrayLength());
        Assert.Equal("<cycle>", cyclic[0].GetString());
        Assert.Equal(1, cyclic[1].GetInt64());

        var shared = Args(("a", p => p.List(2, (q, i) => q.Int(i)).Put(0)), ("b", p => p.Get(0)));
        foreach (var name in new[] { "a", "b" })
            Assert.Equal([0L, 1L], shared.GetProperty(name).EnumerateArray().Select(e => e.GetInt64()));
    }

    [Fact]
    public void Namespaces_keys_and_values_without_a_json_form_are_written_as_text()
    {
        var args = Args(
            ("inner", p => p.Namespace(("x", q => q.Int(1)))),
            ("keys", p => p.Op('}').Op('(').Op('N').Int(1).Int(2).Int(3).Op('u')),                  // {None: 1, 2: 3}
            ("nan", p => p.Float(double.NaN)),
            ("big", p => p.Raw(0x8a, 9).Raw([.. Enumerable.Repeat((byte)0xff, 8), 0])),             // 2**64 - 1
            ("bytes", p => p.Op('C').Raw(1, 9)),
            ("real", p => p.Float(0.5)));
        Assert.Equal(1, args.GetProperty("inner").GetProperty("x").GetInt64());
        Assert.Equal(1, args.GetProperty("keys").GetProperty("None").GetInt64());
        Assert.Equal(3, args.GetProperty("keys").GetProperty("2").GetInt64());
        Assert.Equal("NaN", args.GetProperty("nan").GetString());
        Assert.Equal("18446744073709551615", args.GetProperty("big").GetString());
        Assert.Equal("Byte[]", args.GetProperty("bytes").GetString());
        Assert.Equal(0.5, args.GetProperty("real").GetDouble());
    }

    [Fact]
    public void A_tensor_among_the_args_is_described_not_dumped()
    {
        var pickle = new HandPickle().Dict(("args", a => a.Namespace(("w", p => p.Tensor("0", 6, [2, 3]))))).Stop();
        var args = JsonDocument.Parse(MetadataOf(pickle, ("data/0", new byte[24]))["torch.args"]).RootElement;
        Assert.Equal("tensor [2, 3] Float32", args.GetProperty("w").GetString());
    }
}
