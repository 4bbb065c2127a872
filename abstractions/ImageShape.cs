namespace IAR.Abstractions;

/// <summary>The shape of one image as a tokenizer consumes it: [C, H, W], values in [-1, 1].</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}
