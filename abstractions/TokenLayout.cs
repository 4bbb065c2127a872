namespace IAR.Abstractions;

/// <summary>The shape of one image as a tokenizer consumes it: [C, H, W], values in [-1, 1].</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>The height and width of one token grid (one scale of a multi-scale layout).</summary>
public readonly record struct GridSize(int Height, int Width)
{
    public int Count => Height * Width;

    public override string ToString() => $"{Height}x{Width}";
}

/// <summary>
/// How a flat token sequence [B, L] maps onto token grids. A next-token model has one grid (e.g. 16x16);
/// a next-scale model has several, coarse to fine (e.g. 1x1, 2x2, ... 16x16), concatenated in that order.
/// The IAR decorators only need the vocabulary, so they work on either layout unchanged.
/// </summary>
public sealed record TokenLayout
{
    public TokenLayout(IReadOnlyList<GridSize> scales)
    {
        if (scales.Count == 0) throw new ArgumentException("A token layout needs at least one grid.", nameof(scales));
        foreach (var s in scales)
            if (s.Height <= 0 || s.Width <= 0)
                throw new ArgumentException($"Token grid {s} has a non-positive side.", nameof(scales));
        Scales = scales.ToArray();
    }

    /// <summary>The grids, coarse to fine; a single-grid layout has one.</summary>
    public IReadOnlyList<GridSize> Scales { get; }

    /// <summary>Total number of tokens of one image: L.</summary>
    public int SequenceLength => Scales.Sum(s => s.Count);

    public bool IsMultiScale => Scales.Count > 1;

    /// <summary>The finest (last) grid.</summary>
    public GridSize FinalGrid => Scales[^1];

    /// <summary>Start index of each scale within the flat sequence, plus L at the end.</summary>
    public IReadOnlyList<int> ScaleOffsets
    {
        get
        {
            var offsets = new int[Scales.Count + 1];
            for (int i = 0; i < Scales.Count; i++) offsets[i + 1] = offsets[i] + Scales[i].Count;
            return offsets;
        }
    }

    public static TokenLayout Grid(int height, int width) => new([new GridSize(height, width)]);

    /// <summary>Square scales with the given sides, e.g. VAR's patch_nums (1, 2, 3, 4).</summary>
    public static TokenLayout MultiScale(IEnumerable<int> patchNums) =>
        new(patchNums.Select(p => new GridSize(p, p)).ToArray());

    public bool Equals(TokenLayout? other) => other is not null && Scales.SequenceEqual(other.Scales);

    public override int GetHashCode() => Scales.Aggregate(17, (h, s) => HashCode.Combine(h, s));

    public override string ToString() => string.Join(",", Scales);
}
