using System.Globalization;
using IAR.Abstractions;

namespace IAR.Host.Serialization;

/// <summary>
/// How much memory one file's reader may allocate for what the file describes (tensor storages, copies of strided
/// views, pickle strings and objects): <see cref="Multiple"/> × the file's size + <see cref="Slack"/>, or the bytes
/// given in <see cref="EnvironmentVariable"/>. A file that asks for more is refused with one sentence naming it and
/// the amount, before the allocation happens; so a 747-byte file can never request tens of GiB.
/// </summary>
/// <remarks>Not thread-safe: one budget belongs to one reader of one file.</remarks>
public sealed class LoadBudget
{
    /// <summary>Overrides the limit (bytes, or with a K/M/G/T suffix, powers of 1024), e.g. <c>IAR_LOAD_BUDGET=64G</c>.</summary>
    public const string EnvironmentVariable = "IAR_LOAD_BUDGET";

    /// <summary>A real checkpoint needs about 1 × its size (every storage read once); 4 leaves room for strided copies.</summary>
    public const long Multiple = 4;

    /// <summary>Small files may still hold small expanded views and metadata.</summary>
    public const long Slack = 256L << 20;

    /// <summary>What one pickle object (tuple, list, dict, number on the stack) is charged, whatever its real size.</summary>
    public const long ObjectCost = 64;

    readonly string source;

    LoadBudget(string source, long limit, bool fromEnvironment)
    {
        this.source = source;
        Limit = limit;
        FromEnvironment = fromEnvironment;
    }

    public long Limit { get; }

    public long Used { get; private set; }

    bool FromEnvironment { get; }

    /// <summary>The budget for reading <paramref name="path"/> of <paramref name="fileLength"/> bytes.</summary>
    /// <exception cref="ConfigurationException">The environment variable is set to something that is not a size.</exception>
    public static LoadBudget ForFile(string path, long fileLength)
    {
        var text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(text)) return new LoadBudget(path, ParseSize(text), fromEnvironment: true);
        long limit = fileLength > (long.MaxValue - Slack) / Multiple ? long.MaxValue : fileLength * Multiple + Slack;
        return new LoadBudget(path, limit, fromEnvironment: false);
    }

    /// <summary>A budget of exactly <paramref name="limit"/> bytes (tests, fuzzing).</summary>
    public static LoadBudget Fixed(string source, long limit) => new(source, limit, fromEnvironment: true);

    /// <summary>Takes <paramref name="bytes"/> from the budget for <paramref name="what"/>.</summary>
    /// <exception cref="InvalidDataException">The file asks for more than the budget has left.</exception>
    public void Charge(long bytes, string what)
    {
        if (bytes < 0 || bytes > Limit - Used)
            throw new InvalidDataException(
                $"{source} needs {Format(bytes)} for {what}, which would take its reader past the budget of {Format(Limit)} " +
                $"({(FromEnvironment ? EnvironmentVariable : $"{Multiple} × the file's size + {Format(Slack)}")}; {Format(Used)} already used); " +
                $"if the file is trusted, raise it with {EnvironmentVariable}=<bytes, or e.g. 64G>.");
        Used += bytes;
    }

    /// <summary><paramref name="count"/> × <paramref name="size"/>, or an error naming <paramref name="what"/> when it overflows.</summary>
    public long Product(long count, long size, string what)
    {
        if (count < 0 || size < 0) throw new InvalidDataException($"{source} gives {what} a negative size.");
        try
        {
            return checked(count * size);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{source} gives {what} a size ({count} × {size} bytes) too large to address.");
        }
    }

    static long ParseSize(string text)
    {
        text = text.Trim();
        int shift = char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        var digits = shift == 0 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > long.MaxValue >> shift)
            throw new ConfigurationException($"{EnvironmentVariable}='{text}' is not a size; give bytes, or a number with K, M, G or T (e.g. 64G).");
        return value << shift;
    }

    static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.#} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };
}
