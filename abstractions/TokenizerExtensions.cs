namespace IAR.Abstractions;

public static class TokenizerExtensions
{
    /// <summary>The first tokenizer of type <typeparamref name="T"/> in the decorator chain, starting here.</summary>
    /// <exception cref="InvalidOperationException">No tokenizer in the chain is a <typeparamref name="T"/>.</exception>
    public static T Unwrap<T>(this ITokenizer tokenizer) where T : class
    {
        for (ITokenizer? t = tokenizer; t is not null; t = (t as ITokenizerDecorator)?.Inner)
            if (t is T found) return found;
        throw new InvalidOperationException(
            $"This generator needs a {typeof(T).Name} tokenizer, but was given {tokenizer.Info.Plugin}/{tokenizer.Info.Preset}.");
    }
}
