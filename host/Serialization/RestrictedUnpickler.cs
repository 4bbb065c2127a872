using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace IAR.Host.Serialization;

/// <summary>
/// The Python pickle opcodes that <c>torch.save</c> writes (protocol 2, plus the protocol 3–5 string/bytes/frame
/// opcodes), read into plain values without running anything: the analogue of <c>torch.load(weights_only=True)</c>.
/// A <c>GLOBAL</c> is resolved only against <see cref="PickleGlobals"/>' fixed allow-list, and <c>REDUCE</c>/<c>NEWOBJ</c>/
/// <c>BUILD</c> only apply those known constructors; anything else is refused with an <see cref="InvalidDataException"/>
/// naming the global, before any later opcode is read.
/// </summary>
/// <remarks>
/// Why not Razorvine.Pickle 1.5.0 (nor TorchSharp.PyBridge 1.4.4, which builds on it): its unpickler resolves every
/// unknown global to a <c>ClassDictConstructor</c> instead of refusing it, looks constructors up in a process-wide
/// static registry, and applies <c>BUILD</c> by reflection (<c>__setstate__</c> on whatever type is on the stack), so it
/// cannot give "refuse anything not on the list, naming it".
///
/// Values: <c>null</c>, <c>bool</c>, <c>long</c>, <see cref="BigInteger"/>, <c>double</c>, <c>string</c>, <c>byte[]</c>,
/// <see cref="List{T}"/> (Python list), <see cref="PickleTuple"/>, <see cref="PickleDict"/> (dict and OrderedDict),
/// <see cref="PickleRecord"/> (argparse.Namespace), <see cref="TorchStorageRef"/>, <see cref="TorchTensorRef"/>.
/// </remarks>
public sealed class RestrictedUnpickler
{
    /// <summary>The most bytes one string or bytes item may claim.</summary>
    const int MaxItemBytes = 1 << 30;

    /// <summary>
    /// Memo entries a hostile file cannot push past. Settable inside the assembly so that a test meets the bound
    /// exactly without ten million opcodes (a test at the real bound took 49 s and 600 MB under each mutant).
    /// </summary>
    internal int MaxMemo { get; init; } = 10_000_000;

    /// <summary>Stack entries and MARK depth a hostile file cannot push past; settable inside the assembly, as <see cref="MaxMemo"/>.</summary>
    internal int MaxStack { get; init; } = 1_000_000;

    /// <summary>
    /// Deepest tuple nesting accepted. Tuple equality and hashing recurse into tuples (a dict key), so a million nested
    /// one-element tuples, which never make the stack deep, would end the process with a StackOverflowException there;
    /// real checkpoints nest a handful of levels.
    /// </summary>
    public const int MaxTupleNesting = 100;

    readonly Stream input;
    readonly string source;
    readonly LoadBudget budget;
    readonly long length;
    long position;
    readonly Func<PickleTuple, object> persistentLoad;
    readonly List<object?> stack = [];
    readonly Stack<int> marks = new();
    readonly Dictionary<long, object?> memo = [];

    /// <param name="source">The file (and entry) for messages.</param>
    /// <param name="length">The pickle's length in bytes: no string or bytes item may claim more than what is left of it.</param>
    /// <param name="budget">Charged for every object and string the pickle makes (<see cref="LoadBudget.ObjectCost"/> each, plus its bytes).</param>
    /// <param name="persistentLoad">Resolves a <c>BINPERSID</c> tuple, e.g. torch's <c>('storage', type, key, location, numel)</c>.</param>
    public RestrictedUnpickler(Stream input, long length, string source, LoadBudget budget, Func<PickleTuple, object> persistentLoad)
    {
        this.input = input;
        this.length = length;
        this.source = source;
        this.budget = budget;
        this.persistentLoad = persistentLoad;
    }

    /// <exception cref="InvalidDataException">The pickle names a global not on the allow-list, or is malformed or truncated.</exception>
    public object? Load()
    {
        while (true)
        {
            int op = input.ReadByte();
            if (op < 0) throw Bad("it ends before the STOP opcode");
            position++;
            switch ((byte)op)
            {
                case 0x80: ReadByte(); break; // PROTO n
                case 0x95: ReadBytes(8); break; // FRAME length (frames are just a read-ahead hint)
                case (byte)'.': // STOP
                    return Pop();
                case (byte)'(': Mark(); break; // MARK
                case (byte)'0': Pop(); break; // POP
                case (byte)'1': PopMark(); break; // POP_MARK
                case (byte)'2': Push(Peek()); break; // DUP
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break; // BININT
                case (byte)'K': Push((long)ReadByte()); break; // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
                case 0x8a: Push(DecodeLong(ReadBytes(ReadByte()))); break; // LONG1
                case 0x8b: Push(DecodeLong(ReadBytes(ReadLength(4)))); break; // LONG4
                case (byte)'I': PushTextInt(ReadLine()); break; // INT (protocol 0; also True/False as I01/I00)
                case (byte)'L': Push(ParseInteger(ReadLine().TrimEnd('L'))); break; // LONG (protocol 0)
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT
                case (byte)'F': Push(ParseFloat(ReadLine())); break; // FLOAT (protocol 0)
                case (byte)'X': Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(4)))); break; // BINUNICODE
                case 0x8c: Push(Encoding.UTF8.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(8)))); break; // BINUNICODE8
                case (byte)'T': Push(Encoding.Latin1.GetString(ReadBytes(ReadLength(4)))); break; // BINSTRING
                case (byte)'U': Push(Encoding.Latin1.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINSTRING
                case (byte)'B': Push(ReadBytes(ReadLength(4))); break; // BINBYTES
                case (byte)'C': Push(ReadBytes(ReadByte())); break; // SHORT_BINBYTES
                case 0x8e: Push(ReadBytes(ReadLength(8))); break; // BINBYTES8
                case 0x96: Push(ReadBytes(ReadLength(8))); break; // BYTEARRAY8
                case (byte)')': Push(Tuple([])); break; // EMPTY_TUPLE
                case 0x85: Push(Tuple([Pop()])); break; // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(Tuple([a, b])); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(Tuple([a, b, c])); break; } // TUPLE3
                case (byte)'t': Push(Tuple(PopMark())); break; // TUPLE
                case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
                case (byte)'l': Push(new List<object?>(PopMark())); break; // LIST
                case (byte)'a': { var v = Pop(); PeekAs<List<object?>>("APPEND").Add(v); break; } // APPEND
                case (byte)'e': { var items = PopMark(); PeekAs<List<object?>>("APPENDS").AddRange(items); break; } // APPENDS
                case (byte)'}': Push(new PickleDict()); break; // EMPTY_DICT
                case (byte)'d': { var d = new PickleDict(); SetItems(d, PopMark()); Push(d); break; } // DICT
                case (byte)'s': { var v = Pop(); var k = Pop(); PeekAs<PickleDict>("SETITEM").Set(Key(k), v); break; } // SETITEM
                case (byte)'u': { var items = PopMark(); SetItems(PeekAs<PickleDict>("SETITEMS"), items); break; } // SETITEMS
                case (byte)'p': Memoize(ParseInteger(ReadLine())); break; // PUT
                case (byte)'q': Memoize(ReadByte()); break; // BINPUT
                case (byte)'r': Memoize(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))); break; // LONG_BINPUT
                case 0x94: Memoize(memo.Count); break; // MEMOIZE
                case (byte)'g': Push(Recall(ParseInteger(ReadLine()))); break; // GET
                case (byte)'h': Push(Recall(ReadByte())); break; // BINGET
                case (byte)'j': Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break; // LONG_BINGET
                case (byte)'c': Push(PickleGlobals.Resolve(ReadLine(), ReadLine(), source)); break; // GLOBAL
                case 0x93: { var name = Pop(); var module = Pop(); Push(PickleGlobals.Resolve(AsText(module), AsText(name), source)); break; } // STACK_GLOBAL
                case (byte)'R': { var args = PopAs<PickleTuple>("REDUCE"); Push(Call(Pop(), args)); break; } // REDUCE
                case 0x81: { var args = PopAs<PickleTuple>("NEWOBJ"); Push(Call(Pop(), args)); break; } // NEWOBJ
                case (byte)'b': { var state = Pop(); PickleGlobals.Build(Peek(), state, source); break; } // BUILD
                case (byte)'Q': Push(persistentLoad(PopAs<PickleTuple>("BINPERSID"))); break; // BINPERSID
                default:
                    throw Bad($"it uses pickle opcode 0x{op:x2} ('{(char)op}'), which a tensor checkpoint does not need (INST/OBJ/EXT/PERSID and buffers are not accepted)");
            }
        }
    }

    object? Call(object? callable, PickleTuple args) =>
        callable is PickleGlobal global ? PickleGlobals.Call(global, args, source)
            : throw Bad($"it calls a {Describe(callable)} instead of an allowed global");

    void SetItems(PickleDict dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Bad("a dict has an odd number of keys and values");
        for (int i = 0; i < items.Count; i += 2) dict.Set(Key(items[i]), items[i + 1]);
    }

    /// <summary>Dict keys that hash by value: strings, integers, booleans, None and tuples of them (as in Python).</summary>
    object Key(object? key) => key switch
    {
        null => PickleDict.NoneKey,
        string or long or bool or BigInteger or double => key,
        PickleTuple { IsHashable: true } t => t,
        _ => throw Bad($"a dict uses a {Describe(key)} as a key; strings, numbers and tuples of them are accepted"),
    };

    PickleTuple Tuple(IReadOnlyList<object?> items)
    {
        var tuple = new PickleTuple(items);
        return tuple.Depth <= MaxTupleNesting ? tuple : throw Bad($"its tuples nest deeper than {MaxTupleNesting} levels");
    }

    void Mark()
    {
        if (marks.Count >= MaxStack) throw Bad($"it opens more than {MaxStack} MARKs");
        budget.Charge(LoadBudget.ObjectCost, "a pickle MARK");
        marks.Push(stack.Count);
    }

    void PushTextInt(string text)
    {
        if (text == "01") Push(true);
        else if (text == "00") Push(false);
        else Push(ParseInteger(text));
    }

    object ParseInteger(string text) =>
        long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v   // a conditional of long and BigInteger would be a BigInteger: the boxed long must stay a long
            : BigInteger.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var big) ? (object)big
            : throw Bad($"'{Shorten(text)}' is not an integer");

    double ParseFloat(string text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
            : throw Bad($"'{Shorten(text)}' is not a float");

    static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    static object DecodeLong(byte[] bytes)
    {
        if (bytes.Length == 0) return 0L;
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        // As object: a conditional of long and BigInteger would be a BigInteger, and 2**33 would not read as an integer.
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    void Memoize(object index)
    {
        if (stack.Count == 0) throw Bad("PUT with an empty stack");
        if (memo.Count >= MaxMemo) throw Bad($"its memo grows past {MaxMemo} entries");
        budget.Charge(LoadBudget.ObjectCost, "a pickle memo entry");
        memo[ToIndex(index)] = stack[^1];
    }

    object? Recall(object index) =>
        memo.TryGetValue(ToIndex(index), out var v) ? v : throw Bad($"it reads memo entry {index}, which was never stored");

    long ToIndex(object index) => index switch
    {
        long l => l,
        byte b => b,
        uint u => u,
        int i => i,
        _ => throw Bad($"memo index {index} is out of range"),
    };

    void Push(object? value)
    {
        if (stack.Count >= MaxStack) throw Bad($"its stack grows past {MaxStack} entries");
        budget.Charge(LoadBudget.ObjectCost, "a pickle object");
        stack.Add(value);
    }

    object? Pop()
    {
        if (stack.Count == 0 || (marks.Count > 0 && marks.Peek() == stack.Count)) throw Bad("it pops from an empty stack");
        var v = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return v;
    }

    object? Peek() => stack.Count > 0 ? stack[^1] : throw Bad("it reads from an empty stack");

    T PeekAs<T>(string opcode) where T : class =>
        Peek() as T ?? throw Bad($"{opcode} applies to a {Describe(Peek())}");

    T PopAs<T>(string opcode) where T : class
    {
        var v = Pop();
        return v as T ?? throw Bad($"{opcode} expects a {typeof(T).Name} but finds a {Describe(v)}");
    }

    List<object?> PopMark()
    {
        if (marks.Count == 0) throw Bad("it closes a MARK that was never opened");
        int start = marks.Pop();
        var items = stack.GetRange(start, stack.Count - start);
        stack.RemoveRange(start, stack.Count - start);
        return items;
    }

    byte ReadByte()
    {
        int b = input.ReadByte();
        if (b < 0) throw Bad("it is truncated");
        position++;
        return (byte)b;
    }

    int ReadLength(int bytes)
    {
        var raw = ReadBytes(bytes);
        long length = bytes == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(raw) : (long)BinaryPrimitives.ReadUInt64LittleEndian(raw);
        if (length < 0 || length > MaxItemBytes) throw Bad($"one item claims {length} bytes (more than {MaxItemBytes})");
        if (length > this.length - position) throw Bad($"one item claims {length} bytes but only {this.length - position} are left");
        return (int)length;
    }

    byte[] ReadBytes(int count)
    {
        if (count > length - position) throw Bad("it is truncated");
        budget.Charge(count, "a pickle string");
        var buffer = new byte[count];
        try
        {
            input.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw Bad("it is truncated");
        }
        position += count;
        return buffer;
    }

    string ReadLine()
    {
        var bytes = new List<byte>();
        while (true)
        {
            byte b = ReadByte();
            if (b == (byte)'\n') break;
            if (bytes.Count >= 4096) throw Bad("a text line is longer than 4096 bytes");
            bytes.Add(b);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    string AsText(object? value) => value as string ?? throw Bad($"STACK_GLOBAL expects strings but finds a {Describe(value)}");

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        PickleGlobal g => $"global {g.Name}",
        _ => value.GetType().Name,
    };

    InvalidDataException Bad(string reason) => new($"{source} is not a readable PyTorch pickle: {reason}.");
}
