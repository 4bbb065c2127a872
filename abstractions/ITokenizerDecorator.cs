namespace IAR.Abstractions;

/// <summary>
/// A tokenizer that wraps another one (e.g. IAR's rearranged tokenizer). A generator that needs its tokenizer's
/// concrete type for index-free work (VAR builds its continuous input from code vectors) finds it with
/// <see cref="TokenizerExtensions.Unwrap{T}"/>, and keeps using the decorator for everything index-based.
/// </summary>
public interface ITokenizerDecorator : ITokenizer
{
    ITokenizer Inner { get; }
}
