using System.Numerics;
using System.Text;
using IAR.Host.Serialization;

namespace IAR.Tests.Serialization;

/// <summary>
/// The restricted unpickler opcode by opcode, on hand-written pickles whose values are known (the same bytes Python's
/// <c>pickle</c> writes for them): integers of every width and sign, floats, text and bytes, containers, the memo, and
/// one clear error for each malformed stream. The torch-level tests only reach the opcodes <c>torch.save</c> happens to
/// emit; these pin the rest.
/// </summary>
public class PickleOpcodeTests
{
    static object? Load(params object[] parts) => Unpickler(parts).Load();

    static RestrictedUnpickler Unpickler(params object[] parts)
    {
        var bytes = new List<byte>();
        foreach (var part in parts)
            bytes.AddRange(part switch
            {
                string s => Encoding.Latin1.GetBytes(s),
                byte b => [b],
                int i => [checked((byte)i)],
                byte[] a => a,
                _ => throw new ArgumentException(part.GetType().Name),
            });
        var pickle = bytes.ToArray();
        return new RestrictedUnpickler(new MemoryStream(pickle), pickle.Length, "test.pkl", LoadBudget.ForFile("test.pkl", pickle.Length),
            args => $"persistent{args.Count}");
    }

    static string Refused(params object[] parts) => Assert.Throws<InvalidDataException>(() => Load(parts)).Message;

    [Fact]
    public void Protocol_zero_integers_booleans_and_floats_are_read_as_text()
    {
        Assert.Equal(true, Load("I01\n."));
        Assert.Equal(false, Load("I00\n."));
        Assert.Equal(42L, Load("I42\n."));
        Assert.Equal(-7L, Load("I-7\n."));
        Assert.Equal(BigInteger.Parse("123456789012345678901234567890"), Load("L123456789012345678901234567890L\n."));
        Assert.Equal(5L, Load("L5L\n."));
        Assert.Equal(1.5, Load("F1.5\n."));
        Assert.Equal(-0.25, Load("F-0.25\n."));
    }

    [Fact]
    public void Binary_integers_have_their_width_and_sign()
    {
        Assert.Equal(-2L, Load("J", new byte[] { 0xfe, 0xff, 0xff, 0xff }, "."));          // BININT: signed int32
        Assert.Equal(0x01020304L, Load("J", new byte[] { 4, 3, 2, 1 }, "."));
        Assert.Equal(255L, Load("K", 0xff, "."));                                              // BININT1: unsigned byte
        Assert.Equal(65535L, Load("M", new byte[] { 0xff, 0xff }, "."));                     // BININT2: unsigned 16 bits
        Assert.Equal(0x0201L, Load("M", new byte[] { 1, 2 }, "."));
        Assert.Equal(0L, Load(0x8a, 0, "."));                                                  // LONG1 of no bytes
        Assert.Equal(-1L, Load(0x8a, 1, 0xff, "."));                                           // two's complement
        Assert.Equal(255L, Load(0x8a, 2, new byte[] { 0xff, 0x00 }, "."));
        Assert.Equal(long.MaxValue, Load(0x8a, 8, new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, "."));
        Assert.Equal(long.MinValue, Load(0x8a, 8, new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x80 }, "."));
        Assert.Equal(new BigInteger(ulong.MaxValue), Load(0x8a, 9, new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 }, "."));
        Assert.Equal(-new BigInteger(ulong.MaxValue) - 1, Load(0x8a, 9, new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0xff }, "."));
        Assert.Equal(258L, Load(0x8b, new byte[] { 2, 0, 0, 0, 2, 1 }, "."));                  // LONG4
        Assert.Equal(1.5, Load("G", new byte[] { 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 }, "."));       // BINFLOAT, big-endian
    }

    [Fact]
    public void Text_is_utf8_old_strings_are_latin1_and_bytes_stay_bytes()
    {
        byte[] e = Encoding.UTF8.GetBytes("é€");   // 5 bytes
        Assert.Equal("é€", Load("X", new byte[] { 5, 0, 0, 0 }, e, "."));
        Assert.Equal("é€", Load(0x8c, 5, e, "."));
        Assert.Equal("é€", Load(0x8d, new byte[] { 5, 0, 0, 0, 0, 0, 0, 0 }, e, "."));
        Assert.Equal("é", Load("T", new byte[] { 1, 0, 0, 0 }, 0xe9, "."));
        Assert.Equal("éa", Load("U", 2, 0xe9, "a."));
        Assert.Equal(new byte[] { 1, 2, 3 }, Load("B", new byte[] { 3, 0, 0, 0, 1, 2, 3 }, "."));
        Assert.Equal(new byte[] { 9 }, Load("C", 1, 9, "."));
        Assert.Equal(new byte[] { 7, 8 }, Load(0x8e, new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, 7, 8 }, "."));
        Assert.Equal(new byte[] { 6 }, Load(0x96, new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 6 }, "."));
        Assert.Equal("", Load(0x8c, 0, "."));
    }

    [Fact]
    public void Protocol_and_frame_headers_are_skipped_and_constants_pushed()
    {
        Assert.Null(Load(0x80, 4, 0x95, new byte[8], "N."));
        Assert.Equal(true, Load(0x88, "."));
        Assert.Equal(false, Load(0x89, "."));
    }

    static object?[] Items(object? tuple) => Assert.IsType<PickleTuple>(tuple).Items.ToArray();

    [Fact]
    public void Tuples_keep_their_order()
    {
        Assert.Empty(Items(Load(").")));
        Assert.Equal(new object?[] { 1L }, Items(Load("K", 1, 0x85, ".")));
        Assert.Equal(new object?[] { 1L, 2L }, Items(Load("K", 1, "K", 2, 0x86, ".")));
        Assert.Equal(new object?[] { 1L, 2L, 3L }, Items(Load("K", 1, "K", 2, "K", 3, 0x87, ".")));
        Assert.Equal(new object?[] { 1L, 2L, 3L, 4L }, Items(Load("(K", 1, "K", 2, "K", 3, "K", 4, "t.")));
        // Items below the MARK stay on the stack: the tuple holds only what came after it.
        Assert.Equal(new object?[] { 2L }, Items(Load("K", 1, "(K", 2, "t.")));
    }

    [Fact]
    public void Lists_grow_by_append_and_appends()
    {
        Assert.Equal(new List<object?> { 1L, 2L, 3L }, Load("]K", 1, "a(K", 2, "K", 3, "e."));
        Assert.Equal(new List<object?> { 5L, 6L }, Load("(K", 5, "K", 6, "l."));
        Assert.Equal(new List<object?>(), Load("]."));
        Assert.Contains("APPEND applies to a Int64", Refused("K", 1, "K", 2, "a."));
        Assert.Contains("APPENDS applies to a", Refused("K", 1, "(K", 2, "e."));
    }

    [Fact]
    public void Dicts_keep_insertion_order_and_a_repeated_key_keeps_its_place_with_the_last_value()
    {
        var dict = Assert.IsType<PickleDict>(Load("}(X", new byte[] { 1, 0, 0, 0 }, "bK", 1, "X", new byte[] { 1, 0, 0, 0 }, "aK", 2, "uX", new byte[] { 1, 0, 0, 0 }, "bK", 3, "s."));
        Assert.Equal(["b", "a"], dict.Entries.Select(e => e.Key));
        Assert.Equal([3L, 2L], dict.Entries.Select(e => e.Value));
        Assert.True(dict.HasStringKeys);
        Assert.True(dict.TryGet("a", out var a));
        Assert.Equal(2L, a);
        Assert.False(dict.TryGet("c", out var missing));
        Assert.Null(missing);

        var keyed = Assert.IsType<PickleDict>(Load("(NK", 1, "K", 7, "K", 2, 0x88, "K", 3, "K", 4, "K", 5, 0x86, "K", 6, "d."));
        Assert.Equal(4, keyed.Count);
        Assert.True(keyed.TryGet(PickleDict.NoneKey, out var none));
        Assert.Equal(1L, none);
        Assert.True(keyed.TryGet(7L, out var seven));
        Assert.Equal(2L, seven);
        Assert.True(keyed.TryGet(new PickleTuple([4L, 5L]), out var pair));   // tuples hash by value
        Assert.Equal(6L, pair);
        Assert.False(keyed.HasStringKeys);

        Assert.Contains("odd number", Refused("(K", 1, "d."));
        Assert.Contains("uses a List`1 as a key", Refused("}]K", 1, "s."));
        Assert.Contains("SETITEM applies to a", Refused("]K", 1, "K", 2, "s."));
        Assert.Contains("SETITEMS applies to a", Refused("](K", 1, "K", 2, "u."));
    }

    [Fact]
    public void The_memo_stores_and_recalls_by_every_index_width()
    {
        Assert.Equal(new object?[] { 7L, 7L }, Items(Load("K", 7, "p3\n0g3\ng3\n", 0x86, ".")));               // PUT / GET (text)
        Assert.Equal(new object?[] { 8L, 8L }, Items(Load("K", 8, "q", 200, "0h", 200, "h", 200, 0x86, ".")));  // BINPUT / BINGET
        Assert.Equal(new object?[] { 9L, 9L }, Items(Load("K", 9, "r", new byte[] { 1, 1, 0, 0 }, "0j", new byte[] { 1, 1, 0, 0 }, "j", new byte[] { 1, 1, 0, 0 }, 0x86, ".")));  // LONG_BINPUT / LONG_BINGET
        // MEMOIZE stores at the next free index: the first is 0, the second 1.
        Assert.Equal(new object?[] { 1L, 2L, 1L, 2L }, Items(Load("(K", 1, 0x94, "K", 2, 0x94, "h", 0, "h", 1, "t.")));
        Assert.Contains("memo entry 5, which was never stored", Refused("K", 1, "h", 5, "."));
        Assert.Contains("PUT with an empty stack", Refused("q", 0, "."));
    }

    [Fact]
    public void Stack_manipulation_keeps_the_right_items()
    {
        Assert.Equal(new object?[] { 1L, 1L }, Items(Load("K", 1, "2", 0x86, ".")));        // DUP
        Assert.Equal(1L, Load("K", 1, "K", 2, "0."));                                      // POP
        Assert.Equal(1L, Load("K", 1, "(K", 2, "K", 3, "1."));                             // POP_MARK
        Assert.Contains("pops from an empty stack", Refused("."));
        Assert.Contains("pops from an empty stack", Refused("K", 1, "(."));                // a MARK hides what is below it
        Assert.Contains("reads from an empty stack", Refused("2."));
        Assert.Contains("closes a MARK that was never opened", Refused("K", 1, "t."));
    }

    [Fact]
    public void Malformed_streams_get_one_error_naming_the_file_and_the_reason()
    {
        Assert.Equal("test.pkl is not a readable PyTorch pickle: it ends before the STOP opcode.", Refused("K", 1));
        Assert.Contains("opcode 0x69 ('i')", Refused("i"));
        Assert.Contains("it is truncated", Refused("J", new byte[] { 1, 2 }));
        Assert.Contains("it is truncated", Refused("K"));
        Assert.Contains("it is truncated", Refused("I12"));
        Assert.Contains("one item claims 1073741825 bytes", Refused("X", new byte[] { 1, 0, 0, 0x40 }));
        Assert.Contains("one item claims -1 bytes", Refused(0x8d, new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }));
        Assert.Contains("a text line is longer than 4096 bytes", Refused("I", new string('1', 5000), "\n."));
        Assert.Equal(4096, Assert.IsType<BigInteger>(Load("L", new string('1', 4096), "\n.")).ToString().Length);
        Assert.Contains("STACK_GLOBAL expects strings but finds a Int64", Refused("K", 1, "K", 2, 0x93, "."));
        Assert.Contains("calls a Int64 instead of an allowed global", Refused("K", 1, ")R."));
        Assert.Contains("REDUCE expects a PickleTuple but finds a Int64", Refused("K", 1, "K", 2, "R."));
        Assert.Contains("NEWOBJ expects a PickleTuple", Refused("K", 1, "K", 2, 0x81, "."));
        Assert.Contains("BINPERSID expects a PickleTuple", Refused("K", 1, "Q."));
    }

    [Fact]
    public void Allowed_globals_are_called_and_persistent_ids_resolved()
    {
        var ordered = Assert.IsType<PickleDict>(Load("ccollections\nOrderedDict\n)R."));
        Assert.Equal(0, ordered.Count);
        Assert.Equal("persistent2", Load("K", 1, "K", 2, 0x86, "Q."));
        Assert.Equal("torch.float32", Load("ctorch\nfloat32\n."));   // a dtype is kept as its name
        var record = Assert.IsType<PickleRecord>(Load(0x8c, 8, "argparse", 0x8c, 9, "Namespace", 0x93, ")", 0x81, "."));
        Assert.Equal("argparse.Namespace", record.ClassName);
        Assert.Contains("'os.system'", Refused("cos\nsystem\n."));
    }
}
