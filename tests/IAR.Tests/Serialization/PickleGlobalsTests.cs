using IAR.Host.Serialization;
using static TorchSharp.torch;

namespace IAR.Tests.Serialization;

/// <summary>
/// The allow-listed constructors one by one: what each builds from well-formed arguments (values checked), the one
/// error for each malformed call, and the bounds of a tensor view against its storage at the exact last element.
/// </summary>
public class PickleGlobalsTests
{
    const string Source = "ckpt.pt";
    static readonly TorchStorageRef Storage = new("0", ScalarType.Float32, 6);

    static PickleGlobal Global(string module, string name) => Assert.IsType<PickleGlobal>(PickleGlobals.Resolve(module, name, Source));

    static object? Call(string module, string name, params object?[] args) => PickleGlobals.Call(Global(module, name), new PickleTuple(args), Source);

    static string Refused(string module, string name, params object?[] args) =>
        Assert.Throws<InvalidDataException>(() => Call(module, name, args)).Message;

    static PickleTuple Tuple(params object?[] items) => new(items);

    [Fact]
    public void Resolve_keeps_dtypes_as_names_and_refuses_the_rest_by_name()
    {
        Assert.Equal("torch.float16", PickleGlobals.Resolve("torch", "float16", Source));
        Assert.Equal(new PickleGlobal("torch", "FloatStorage"), PickleGlobals.Resolve("torch", "FloatStorage", Source));
        Assert.Equal("collections.OrderedDict", Global("collections", "OrderedDict").Name);
        var e = Assert.Throws<InvalidDataException>(() => PickleGlobals.Resolve("torch", "load", Source));
        Assert.StartsWith("ckpt.pt was refused: its pickle names the global 'torch.load'", e.Message);
        Assert.Throws<InvalidDataException>(() => PickleGlobals.Resolve("builtins", "FloatStorage", Source));
        Assert.Throws<InvalidDataException>(() => PickleGlobals.Resolve("numpy", "float32", Source));
        Assert.Contains("torch.FloatStorage", PickleGlobals.Accepted);
        Assert.Contains("torch.bfloat16", PickleGlobals.Accepted);
        Assert.Contains("collections.OrderedDict", PickleGlobals.Accepted);
    }

    [Fact]
    public void An_ordered_dict_takes_no_arguments_or_one_list_of_pairs()
    {
        var dict = Assert.IsType<PickleDict>(Call("collections", "OrderedDict", new List<object?> { Tuple("a", 1L), Tuple("b", 2L) }));
        Assert.Equal(["a", "b"], dict.Entries.Select(e => e.Key));
        Assert.Equal([1L, 2L], dict.Entries.Select(e => e.Value));
        Assert.Equal(0, Assert.IsType<PickleDict>(Call("collections", "OrderedDict")).Count);
        Assert.Contains("other than (key, value) pairs", Refused("collections", "OrderedDict", new List<object?> { Tuple("a") }));
        Assert.Contains("other than (key, value) pairs", Refused("collections", "OrderedDict", new List<object?> { Tuple(null, 1L) }));
        Assert.Contains("other than (key, value) pairs", Refused("collections", "OrderedDict", new List<object?> { 5L }));
        Assert.Contains("OrderedDict is called with 2 arguments", Refused("collections", "OrderedDict", 1L, 2L));
        Assert.Contains("OrderedDict is called with 1 arguments", Refused("collections", "OrderedDict", 1L));
    }

    [Fact]
    public void A_tensor_is_rebuilt_as_a_view_of_its_storage()
    {
        var t = Assert.IsType<TorchTensorRef>(Call("torch._utils", "_rebuild_tensor_v2", Storage, 0L, Tuple(2L, 3L), Tuple(3L, 1L), false, null));
        Assert.Same(Storage, t.Storage);
        Assert.Equal(0, t.Offset);
        Assert.Equal([2L, 3L], t.Shape);
        Assert.Equal([3L, 1L], t.Stride);
        Assert.Equal(6, t.ElementCount);
        Assert.True(t.IsContiguous);
        Assert.Same(t, Call("torch._utils", "_rebuild_parameter", t, false, null));
        Assert.Same(t, Call("torch._utils", "_rebuild_parameter_with_state", t, false, null, null));
        Assert.Contains("other than a tensor", Refused("torch._utils", "_rebuild_parameter", 1L));
        Assert.Contains("other than a tensor", Refused("torch._utils", "_rebuild_parameter"));

        // The last element touched: offset + Σ (size − 1)·stride must be < the storage's 6 elements.
        var last = Assert.IsType<TorchTensorRef>(Call("torch._utils", "_rebuild_tensor", Storage, 1L, Tuple(5L), Tuple(1L)));
        Assert.Equal(1, last.Offset);
        Assert.Contains("reaches element 6 of storage '0', which has 6",
            Refused("torch._utils", "_rebuild_tensor_v2", Storage, 2L, Tuple(5L), Tuple(1L), false, null));
        Assert.Contains("a tensor view [2, 2] at offset 0 reaches element 6",
            Refused("torch._utils", "_rebuild_tensor_v2", Storage, 0L, Tuple(2L, 2L), Tuple(5L, 1L), false, null));
        // An empty view touches nothing, wherever it points.
        Assert.IsType<TorchTensorRef>(Call("torch._utils", "_rebuild_tensor_v2", Storage, 100L, Tuple(0L, 3L), Tuple(3L, 1L), false, null));
        // A scalar at the last element.
        Assert.IsType<TorchTensorRef>(Call("torch._utils", "_rebuild_tensor_v2", Storage, 5L, Tuple(), Tuple(), false, null));
    }

    [Theory]
    [InlineData(-1L, 2L, 1L, "negative offset, size or stride")]
    [InlineData(0L, -2L, 1L, "negative offset, size or stride")]
    [InlineData(0L, 2L, -1L, "negative offset, size or stride")]
    [InlineData(0L, 3L, long.MaxValue, "too large to address")]
    [InlineData(5L, 2L, long.MaxValue, "too large to address")]
    public void Negative_or_overflowing_views_are_refused(long offset, long size, long stride, string reason) =>
        Assert.Contains(reason, Refused("torch._utils", "_rebuild_tensor_v2", Storage, offset, Tuple(size), Tuple(stride), false, null));

    [Fact]
    public void Malformed_tensor_arguments_are_refused()
    {
        const string shapeOfArgs = "arguments other than (storage, offset, size, stride";
        Assert.Contains(shapeOfArgs, Refused("torch._utils", "_rebuild_tensor_v2", Storage, 0L, Tuple(1L)));
        Assert.Contains(shapeOfArgs, Refused("torch._utils", "_rebuild_tensor_v2", "x", 0L, Tuple(1L), Tuple(1L)));
        Assert.Contains(shapeOfArgs, Refused("torch._utils", "_rebuild_tensor_v2", Storage, 0.0, Tuple(1L), Tuple(1L)));
        Assert.Contains(shapeOfArgs, Refused("torch._utils", "_rebuild_tensor_v2", Storage, 0L, 1L, Tuple(1L)));
        Assert.Contains(shapeOfArgs, Refused("torch._utils", "_rebuild_tensor_v2", Storage, 0L, Tuple(1L), 1L));
        Assert.Contains("a tensor size is not an integer", Refused("torch._utils", "_rebuild_tensor_v2", Storage, 0L, Tuple(1.0), Tuple(1L)));
        Assert.Contains("a tensor stride is not an integer", Refused("torch._utils", "_rebuild_tensor_v2", Storage, 0L, Tuple(1L), Tuple("1")));
        Assert.Contains("a tensor has 2 sizes but 1 strides", Refused("torch._utils", "_rebuild_tensor_v2", Storage, 0L, Tuple(1L, 1L), Tuple(1L)));
    }

    [Fact]
    public void Sizes_sets_devices_namespaces_and_encoded_bytes_are_plain_values()
    {
        Assert.Equal(Tuple(2L, 3L), Call("torch", "Size", Tuple(2L, 3L)));
        Assert.Equal(Tuple(), Call("torch", "Size"));
        Assert.Equal(new List<object?>(), Call("builtins", "set"));
        Assert.Equal(new List<object?> { 1L, 2L }, Call("builtins", "frozenset", new List<object?> { 1L, 2L }));
        Assert.Contains("a set is built from something other than a list", Refused("builtins", "set", 1L));
        Assert.Equal("cuda:0", Call("torch", "device", "cuda", 0L));
        Assert.Equal("cpu", Call("torch", "device", "cpu"));
        Assert.Contains("torch.device has no arguments", Refused("torch", "device"));
        Assert.Equal(new byte[] { 0xe9, 0x41 }, Call("_codecs", "encode", "éA", "latin1"));
        Assert.Contains("_codecs.encode is not given a string", Refused("_codecs", "encode", 1L));
        Assert.Contains("_codecs.encode is not given a string", Refused("_codecs", "encode"));
        Assert.Equal("argparse.Namespace", Assert.IsType<PickleRecord>(Call("argparse", "Namespace")).ClassName);
        Assert.Contains("argparse.Namespace is called with arguments", Refused("argparse", "Namespace", 1L));
        Assert.Contains("calls 'torch.FloatStorage', which is only accepted as a storage type", Refused("torch", "FloatStorage"));
    }

    [Fact]
    public void Build_sets_namespace_fields_and_string_attributes_of_a_dict_only()
    {
        var state = new PickleDict();
        state.Set("lr", 0.5);
        state.Set(3L, "not an attribute name");
        var record = new PickleRecord("argparse.Namespace");
        PickleGlobals.Build(record, state, Source);
        Assert.True(record.Fields.TryGet("lr", out var lr));
        Assert.Equal(0.5, lr);
        Assert.Equal(2, record.Fields.Count);

        var dict = new PickleDict();
        PickleGlobals.Build(dict, Tuple(state, null), Source);    // (state, slotstate)
        Assert.Equal(0.5, dict.Attributes["lr"]);
        Assert.Single(dict.Attributes);
        Assert.Equal(0, dict.Count);

        Assert.Contains("BUILD gives a Int64 as state", Assert.Throws<InvalidDataException>(() => PickleGlobals.Build(record, 1L, Source)).Message);
        Assert.Contains("BUILD gives a PickleTuple as state", Assert.Throws<InvalidDataException>(() => PickleGlobals.Build(record, Tuple(1L, null), Source)).Message);
        Assert.Contains("BUILD gives a PickleTuple as state", Assert.Throws<InvalidDataException>(() => PickleGlobals.Build(record, Tuple(state), Source)).Message);
        Assert.Contains("BUILD sets state on a List`1", Assert.Throws<InvalidDataException>(() => PickleGlobals.Build(new List<object?>(), state, Source)).Message);
    }

    [Fact]
    public void View_contiguity_and_tuple_equality_are_by_value()
    {
        Assert.False(new TorchTensorRef(Storage, 0, [2, 3], [1, 2]).IsContiguous);
        Assert.True(new TorchTensorRef(Storage, 0, [1, 3], [99, 1]).IsContiguous);   // a size-1 axis may have any stride
        Assert.False(new TorchTensorRef(Storage, 0, [3, 1], [2, 1]).IsContiguous);
        Assert.True(new TorchTensorRef(Storage, 0, [], []).IsContiguous);
        Assert.Equal(1, new TorchTensorRef(Storage, 0, [], []).ElementCount);
        Assert.Equal(0, new TorchTensorRef(Storage, 0, [4, 0], [1, 1]).ElementCount);

        Assert.Equal(Tuple(1L, "a"), Tuple(1L, "a"));
        Assert.Equal(Tuple(1L, "a").GetHashCode(), Tuple(1L, "a").GetHashCode());
        Assert.NotEqual(Tuple(1L, "a"), Tuple("a", 1L));
        Assert.NotEqual(Tuple(1L), Tuple(1L, 2L));
        Assert.False(Tuple(1L).Equals(null));
        Assert.Equal("(1, a)", Tuple(1L, "a").ToString());
        Assert.Equal(2, Tuple(1L, "a").Count);
        Assert.Equal("a", Tuple(1L, "a")[1]);
    }

    [Fact]
    public void Every_allowed_global_resolves_and_near_misses_are_refused()
    {
        (string Name, ScalarType DType)[] storages =
        [
            ("FloatStorage", ScalarType.Float32), ("HalfStorage", ScalarType.Float16), ("BFloat16Storage", ScalarType.BFloat16),
            ("DoubleStorage", ScalarType.Float64), ("LongStorage", ScalarType.Int64), ("IntStorage", ScalarType.Int32),
            ("ShortStorage", ScalarType.Int16), ("CharStorage", ScalarType.Int8), ("ByteStorage", ScalarType.Byte), ("BoolStorage", ScalarType.Bool),
        ];
        foreach (var (name, dtype) in storages)
        {
            Assert.Equal(new PickleGlobal("torch", name), PickleGlobals.Resolve("torch", name, Source));
            Assert.Equal(dtype, PickleGlobals.StorageTypes[name]);
        }
        string[] dtypes = ["float32", "float", "float16", "half", "bfloat16", "float64", "double", "int64", "long", "int32", "int", "int16", "short", "int8", "uint8", "bool"];
        foreach (var name in dtypes) Assert.Equal($"torch.{name}", PickleGlobals.Resolve("torch", name, Source));
        foreach (var (module, name) in new[] { ("torch", "floatStorage"), ("torch", "Storage"), ("torch", "uint16"), ("torch", "float8"), ("torch", "Float"), ("collections", "orderedDict"), ("torch.utils", "_rebuild_tensor_v2") })
            Assert.Throws<InvalidDataException>(() => PickleGlobals.Resolve(module, name, Source));
        Assert.Equal(11 + storages.Length + dtypes.Length, PickleGlobals.Accepted.Count());
        Assert.Equal(PickleGlobals.Accepted.Order(StringComparer.Ordinal), PickleGlobals.Accepted);   // the refusal lists them sorted
    }

    [Fact]
    public void A_parameter_and_an_encoded_string_need_only_their_first_argument()
    {
        var t = new TorchTensorRef(Storage, 0, [6], [1]);
        Assert.Same(t, Call("torch._utils", "_rebuild_parameter", t));
        Assert.Equal(new byte[] { 0xe9 }, Call("_codecs", "encode", "é"));
    }

    [Fact]
    public void A_shape_whose_element_count_overflows_is_refused_even_with_zero_strides()
    {
        // 2^32 × 2^32 wraps to 0 elements unchecked, and zero strides keep every element inside the storage.
        Assert.Equal("ckpt.pt is not a readable PyTorch checkpoint: a tensor of shape [4294967296, 4294967296] has more elements than can be addressed.",
            Refused("torch._utils", "_rebuild_tensor_v2", Storage, 0L, Tuple(1L << 32, 1L << 32), Tuple(0L, 0L), false, null));
    }
}
