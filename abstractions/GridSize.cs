namespace IAR.Abstractions;

/// <summary>The height and width of one token grid (one scale of a multi-scale layout).</summary>
public readonly record struct GridSize(int Height, int Width)
{
    public int Count => Height * Width;

    public override string ToString() => $"{Height}x{Width}";
}
