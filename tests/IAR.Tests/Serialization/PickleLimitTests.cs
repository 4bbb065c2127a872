using System.Text;
using IAR.Host.Serialization;

namespace IAR.Tests.Serialization;

/// <summary>
/// The restricted unpickler's bounds met exactly (read) and passed by one (refused, naming the bound): stack, MARKs,
/// memo, tuple nesting, one item's bytes, one text line; what each step is charged to the budget; the byte count that
/// every "only N are left" is measured with; and the messages of the remaining malformed streams.
/// </summary>
public class PickleLimitTests
{
    // The bounds the tests meet exactly: the reader's own are 1 000 000 and 10 000 000 (checked below); smaller ones
    // keep each test to milliseconds, the comparison being the same code.
    const int MaxStack = 1000, MaxMemo = 2000;

    static byte[] Bytes(params object[] parts) =>
    [
        .. parts.SelectMany(part => part switch
        {
            string s => Encoding.Latin1.GetBytes(s),
            int i => [checked((byte)i)],
            byte[] a => a,
            _ => throw new ArgumentException(part.GetType().Name),
        }),
    ];

    static byte[] Repeat(int op, int count) => Enumerable.Repeat((byte)op, count).ToArray();

    /// <param name="length">The length the reader is told (the zip entry's), when it differs from the bytes there are.</param>
    static RestrictedUnpickler Reader(byte[] pickle, LoadBudget? budget = null, long? length = null) =>
        new(new MemoryStream(pickle), length ?? pickle.Length, "t.pkl", budget ?? LoadBudget.Fixed("t.pkl", long.MaxValue), _ => "persistent")
        {
            MaxStack = MaxStack,
            MaxMemo = MaxMemo,
        };

    static object? Load(byte[] pickle, LoadBudget? budget = null, long? length = null) => Reader(pickle, budget, length).Load();

    [Fact]
    public void The_readers_own_bounds_are_a_million_stack_entries_and_ten_million_memo_entries()
    {
        var reader = new RestrictedUnpickler(new MemoryStream([]), 0, "t.pkl", LoadBudget.Fixed("t.pkl", 1), _ => "persistent");
        Assert.Equal((1_000_000, 10_000_000), (reader.MaxStack, reader.MaxMemo));
    }

    static string Refused(byte[] pickle, LoadBudget? budget = null, long? length = null) =>
        Assert.Throws<InvalidDataException>(() => Load(pickle, budget, length)).Message;

    static string Unreadable(string reason) => $"t.pkl is not a readable PyTorch pickle: {reason}.";

    [Fact]
    public void The_stack_holds_its_bound_of_entries_and_not_one_more()
    {
        Assert.Null(Load(Bytes(Repeat('N', MaxStack), Repeat('0', MaxStack - 1), ".")));
        Assert.Equal(Unreadable($"its stack grows past {MaxStack} entries"), Refused(Bytes(Repeat('N', MaxStack + 1), ".")));
    }

    [Fact]
    public void Marks_up_to_the_stack_bound_are_read_and_one_more_is_refused()
    {
        Assert.Null(Load(Bytes(Repeat('(', MaxStack), Repeat('1', MaxStack), "N.")));
        Assert.Equal(Unreadable($"it opens more than {MaxStack} MARKs"), Refused(Bytes(Repeat('(', MaxStack + 1), "N.")));
    }

    [Fact]
    public void The_memo_holds_its_bound_of_entries_and_not_one_more()
    {
        Assert.Null(Load(Bytes("N", Repeat(0x94, MaxMemo), ".")));   // MEMOIZE: each at the next free index
        Assert.Equal(Unreadable($"its memo grows past {MaxMemo} entries"), Refused(Bytes("N", Repeat(0x94, MaxMemo + 1), ".")));
    }

    [Fact]
    public void Tuples_nest_a_hundred_levels_and_not_one_more()
    {
        Assert.Equal(RestrictedUnpickler.MaxTupleNesting, Assert.IsType<PickleTuple>(Load(Bytes("N", Repeat(0x85, RestrictedUnpickler.MaxTupleNesting), "."))).Depth);
        Assert.Equal(Unreadable("its tuples nest deeper than 100 levels"), Refused(Bytes("N", Repeat(0x85, RestrictedUnpickler.MaxTupleNesting + 1), ".")));
    }

    [Fact]
    public void Marks_memo_entries_and_strings_are_charged_to_the_budget_by_name()
    {
        Assert.StartsWith("t.pkl needs 64 bytes for a pickle MARK,", Refused(Bytes("(N."), LoadBudget.Fixed("t.pkl", 63)));
        Assert.StartsWith("t.pkl needs 64 bytes for a pickle memo entry,", Refused(Bytes("Nq", 0, "."), LoadBudget.Fixed("t.pkl", 127)));
        Assert.StartsWith("t.pkl needs 5 bytes for a pickle string,", Refused(Bytes(0x8c, 5, "hello."), LoadBudget.Fixed("t.pkl", 4)));
        // A string longer than what is left is refused as truncated before its bytes are charged.
        Assert.Equal(Unreadable("it is truncated"), Refused(Bytes(0x8c, 200, "ab."), LoadBudget.Fixed("t.pkl", 100)));
    }

    [Fact]
    public void A_stream_that_ends_before_its_declared_length_is_truncated()
    {
        Assert.Equal(Unreadable("it is truncated"), Refused(Bytes(0x8c, 5, "ab"), length: 100));
    }

    [Fact]
    public void An_item_longer_than_what_is_left_is_refused_before_it_is_read_or_charged()
    {
        // BINUNICODE claiming 5 bytes, 3 left after its length (8 bytes in all, 5 read): refused by the length check,
        // naming both counts
        Assert.Equal(Unreadable("one item claims 5 bytes but only 3 are left"), Refused(Bytes("X", 5, 0, 0, 0, "ab.")));
        // SHORT_BINUNICODE claiming 4 bytes, 3 left: refused as truncated before the 4 bytes are charged to a budget of 3
        Assert.Equal(Unreadable("it is truncated"), Refused(Bytes(0x8c, 4, "ab."), LoadBudget.Fixed("t.pkl", 3)));
    }

    [Fact]
    public void Every_byte_read_counts_toward_what_is_left()
    {
        // K 1 (2 bytes), POP, SHORT_BINUNICODE 2 "ab" (4), POP, BINUNICODE claiming 100 (5): 13 read, 3 left of 16.
        Assert.Equal(Unreadable("one item claims 100 bytes but only 3 are left"),
            Refused(Bytes("K", 1, "0", 0x8c, 2, "ab", "0", "X", new byte[] { 100, 0, 0, 0 }, "abc")));
        // An item may end exactly at the end of the pickle (then STOP is missing).
        Assert.Equal(Unreadable("it ends before the STOP opcode"), Refused(Bytes("X", new byte[] { 3, 0, 0, 0 }, "abc")));
    }

    [Fact]
    public void One_item_may_claim_a_gibibyte_and_not_one_byte_more()
    {
        Assert.Equal(Unreadable("one item claims 1073741824 bytes but only 0 are left"), Refused(Bytes("X", BitConverter.GetBytes(1 << 30))));
        Assert.Equal(Unreadable("one item claims 1073741825 bytes (more than 1073741824)"), Refused(Bytes("X", BitConverter.GetBytes((1 << 30) + 1))));
    }

    [Fact]
    public void A_text_line_holds_4096_bytes_and_not_one_more()
    {
        Assert.Equal(7L, Load(Bytes("I", new string('0', 4095), "7\n.")));
        Assert.Equal(Unreadable("a text line is longer than 4096 bytes"), Refused(Bytes("I", new string('0', 4096), "7\n.")));
    }

    [Fact]
    public void Malformed_text_numbers_are_quoted_up_to_40_characters()
    {
        Assert.Equal(Unreadable("'12x' is not an integer"), Refused(Bytes("I12x\n.")));
        var forty = new string('a', 40);
        Assert.Equal(Unreadable($"'{forty}' is not a float"), Refused(Bytes($"F{forty}\n.")));
        Assert.Equal(Unreadable($"'{forty}…' is not a float"), Refused(Bytes($"F{forty}b\n.")));
    }

    [Fact]
    public void Opcode_zero_memo_indices_past_64_bits_and_calls_of_non_globals_are_named()
    {
        Assert.Contains("it uses pickle opcode 0x00", Refused(Bytes(0, ".")));
        Assert.Equal(Unreadable("memo index 99999999999999999999 is out of range"), Refused(Bytes("Np99999999999999999999\n.")));
        Assert.Equal(Unreadable("it calls a None instead of an allowed global"), Refused(Bytes("N)R.")));
        Assert.Equal("t.pkl is not a readable PyTorch checkpoint: BUILD sets state on a global collections.OrderedDict, which takes none.",
            Refused(Bytes("ccollections\nOrderedDict\n}b.")));
    }
}
