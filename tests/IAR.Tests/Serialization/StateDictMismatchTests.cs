using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Serialization;

/// <summary>A state dict that does not fit its module: exactly the kinds of mismatch there are are named, six keys of each at most.</summary>
public class StateDictMismatchTests
{
    /// <summary>Loads into a Linear(4, 3) (weight [3, 4], bias [3]) and returns the refusal.</summary>
    static string Refused(params (string Key, long[] Shape)[] given)
    {
        using var module = nn.Linear(4, 3);
        var tensors = given.ToDictionary(g => g.Key, g => torch.zeros(g.Shape));
        try
        {
            return Assert.Throws<InvalidDataException>(() => StateDict.Load(module, tensors, "c.safetensors", "Linear")).Message;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    static readonly (string, long[]) Weight = ("weight", [3, 4]), Bias = ("bias", [3]), WideWeight = ("weight", [3, 5]);

    [Fact]
    public void Only_the_kinds_of_mismatch_present_are_named()
    {
        const string start = "Checkpoint c.safetensors does not fit Linear: ";
        Assert.Equal(start + "wrong shapes: weight [3, 5] where the model has [3, 4].", Refused(WideWeight, Bias));
        Assert.Equal(start + "unexpected keys: extra.", Refused(Weight, Bias, ("extra", [1])));
        Assert.Equal(start + "missing keys: bias.", Refused(Weight));
        Assert.Equal(start + "missing keys: bias; wrong shapes: weight [3, 5] where the model has [3, 4].", Refused(WideWeight));
    }

    [Fact]
    public void Six_keys_are_named_and_more_are_counted()
    {
        (string, long[])[] Extra(int count) => [Weight, Bias, .. Enumerable.Range(0, count).Select(i => ($"e{i}", new long[] { 1 }))];
        Assert.EndsWith("unexpected keys: e0, e1, e2, e3, e4, e5.", Refused(Extra(6)));
        Assert.EndsWith("unexpected keys: e0, e1, e2, e3, e4, e5 and 1 more.", Refused(Extra(7)));
    }
}
