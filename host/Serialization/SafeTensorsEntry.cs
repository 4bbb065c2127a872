using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>One tensor's header entry: dtype, shape and byte range within the data section.</summary>
public sealed record SafeTensorsEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
