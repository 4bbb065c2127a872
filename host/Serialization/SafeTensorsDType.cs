using static TorchSharp.torch;

namespace IAR.Host.Serialization;

/// <summary>The safetensors dtype names we read and write, and their torch equivalents.</summary>
public static class SafeTensorsDType
{
    static readonly (string Name, ScalarType Type, int Size)[] Table =
    [
        ("F32", ScalarType.Float32, 4),
        ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2),
        ("F64", ScalarType.Float64, 8),
        ("I64", ScalarType.Int64, 8),
        ("I32", ScalarType.Int32, 4),
        ("I16", ScalarType.Int16, 2),
        ("I8", ScalarType.Int8, 1),
        ("U8", ScalarType.Byte, 1),
        ("BOOL", ScalarType.Bool, 1),
    ];

    public static IEnumerable<string> Names => Table.Select(t => t.Name);

    public static bool TryParse(string name, out ScalarType type, out int elementSize)
    {
        foreach (var t in Table)
            if (t.Name == name)
            {
                type = t.Type;
                elementSize = t.Size;
                return true;
            }
        type = default;
        elementSize = 0;
        return false;
    }

    public static string NameOf(ScalarType type) =>
        Table.FirstOrDefault(t => t.Type == type).Name
        ?? throw new NotSupportedException($"Tensors of type {type} cannot be stored in safetensors here.");

    public static int SizeOf(ScalarType type) => Table.First(t => t.Type == type).Size;
}
