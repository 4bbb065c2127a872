using System.IO.Compression;
using System.Text;

namespace IAR.Tests.Serialization;

/// <summary>
/// Pickle bytes written opcode by opcode (protocol 2, the opcodes <c>torch.save</c> writes), and the <c>torch.save</c>
/// zip around them: for the shapes PyTorch will not write (exact limits, hostile ids, chosen storages) while the test
/// still states the object it means. Values are written by callbacks, so nesting reads like the object:
/// <c>p.Dict(("model", v => v.Dict(("w", t => t.Tensor("0", 2, [2])))))</c>.
/// </summary>
sealed class HandPickle
{
    readonly List<byte> bytes = [0x80, 2];

    public HandPickle Raw(params byte[] more)
    {
        bytes.AddRange(more);
        return this;
    }

    public HandPickle Op(char op) => Raw((byte)op);

    /// <summary>BINUNICODE: length (4 bytes, little-endian), then UTF-8.</summary>
    public HandPickle Text(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        return Op('X').Raw(BitConverter.GetBytes(utf8.Length)).Raw(utf8);
    }

    /// <summary>LONG1 of 8 bytes: any long.</summary>
    public HandPickle Int(long value) => Raw(0x8a, 8).Raw(BitConverter.GetBytes(value));

    /// <summary>BINFLOAT: 8 bytes, big-endian.</summary>
    public HandPickle Float(double value) => Op('G').Raw(BitConverter.GetBytes(value).Reverse().ToArray());

    public HandPickle Global(string module, string name) => Op('c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    /// <summary>BINPUT / BINGET: the memo, for a value that appears twice or holds itself.</summary>
    public HandPickle Put(byte index) => Op('q').Raw(index);

    public HandPickle Get(byte index) => Op('h').Raw(index);

    /// <summary>A dict: EMPTY_DICT, MARK, key value …, SETITEMS.</summary>
    public HandPickle Dict(params (string Key, Action<HandPickle> Value)[] items)
    {
        Op('}').Op('(');
        foreach (var (key, value) in items)
        {
            Text(key);
            value(this);
        }
        return Op('u');
    }

    /// <summary>A list of <paramref name="count"/> items: EMPTY_LIST, MARK, items, APPENDS.</summary>
    public HandPickle List(int count, Action<HandPickle, int> item)
    {
        Op(']').Op('(');
        for (int i = 0; i < count; i++) item(this, i);
        return Op('e');
    }

    /// <summary>argparse.Namespace() with its fields set by BUILD (how training scripts save their args).</summary>
    public HandPickle Namespace(params (string Key, Action<HandPickle> Value)[] fields) =>
        Global("argparse", "Namespace").Op(')').Op('R').Dict(fields).Op('b');

    /// <summary>A persistent id <c>('storage', torch.TYPE, key, 'cpu', count)</c> as torch.save writes it.</summary>
    public HandPickle Storage(string key, long count, string type = "FloatStorage") =>
        Op('(').Text("storage").Global("torch", type).Text(key).Text("cpu").Int(count).Op('t').Op('Q');

    /// <summary><c>_rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())</c>; C-order strides unless given.</summary>
    public HandPickle Tensor(string key, long count, long[] shape, long[]? stride = null, long offset = 0, string type = "FloatStorage")
    {
        stride ??= [.. shape.Select((_, i) => shape.Skip(i + 1).Aggregate(1L, (a, b) => a * b))];
        Global("torch._utils", "_rebuild_tensor_v2").Op('(');
        Storage(key, count, type).Int(offset);
        Op('(');
        foreach (var s in shape) Int(s);
        Op('t').Op('(');
        foreach (var s in stride) Int(s);
        return Op('t').Raw(0x89).Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R');
    }

    /// <summary>The pickle, ended by STOP.</summary>
    public byte[] Stop() => [.. bytes, (byte)'.'];

    /// <summary>A torch.save zip: <c>archive/data.pkl</c> and the other entries under <c>archive/</c>, stored.</summary>
    public static string Zip(string path, byte[] pickle, params (string Name, byte[] Data)[] more)
    {
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            foreach (var (name, data) in more.Prepend(("data.pkl", pickle)))
            {
                using var s = zip.CreateEntry("archive/" + name, CompressionLevel.NoCompression).Open();
                s.Write(data);
            }
        return path;
    }

    /// <summary><paramref name="values"/> as the little-endian bytes of a float storage.</summary>
    public static byte[] Floats(params float[] values) => [.. values.SelectMany(BitConverter.GetBytes)];
}
