using System.Numerics;
using IAR.Host.Serialization;

namespace IAR.Tests.Serialization;

/// <summary>The plain values the unpickler makes: which tuples may be dict keys, a tuple's bounded text, string-keyed dicts.</summary>
public class PickleValueTests
{
    [Fact]
    public void A_tuple_is_hashable_when_everything_inside_is_a_number_string_none_or_such_a_tuple()
    {
        Assert.True(new PickleTuple(["a", null, 1L, true, 1.5, BigInteger.One]).IsHashable);
        Assert.True(new PickleTuple([new PickleTuple([1L]), new PickleTuple(["b"])]).IsHashable);
        Assert.False(new PickleTuple([new PickleTuple([new List<object?>()])]).IsHashable);
        Assert.False(new PickleTuple([new PickleTuple([1L]), new PickleTuple([new PickleDict()])]).IsHashable);
    }

    [Fact]
    public void A_tuple_reads_as_at_most_200_characters()
    {
        var fits = new string('x', 198);
        Assert.Equal($"({fits})", new PickleTuple([fits]).ToString());                        // exactly 200: whole
        Assert.Equal($"({fits}…", new PickleTuple([fits + "y"]).ToString());                  // 201: 199 and an ellipsis
        Assert.Equal($"({fits}…", new PickleTuple([new string('x', 1000)]).ToString());
    }

    [Fact]
    public void A_dict_has_string_keys_only_when_every_key_is_a_string()
    {
        var dict = new PickleDict();
        Assert.True(dict.HasStringKeys);
        dict.Set("a", 1L);
        Assert.True(dict.HasStringKeys);
        dict.Set(2L, 3L);
        Assert.False(dict.HasStringKeys);
    }
}
