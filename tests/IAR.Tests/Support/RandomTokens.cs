using IAR.Abstractions;
using IAR.Host.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Support;

/// <summary>Random tokens int64 [N, L] in [0, V) and labels in [0, classes), one variant, in host memory like a token cache.</summary>
internal sealed class RandomTokens : ITokenSource, IDisposable
{
    readonly Tensor tokens;
    readonly Tensor labels;

    public RandomTokens(int count, int length, int vocabulary, int classes)
    {
        var random = new torch.Generator(17);
        tokens = torch.randint(0, vocabulary, [count, length], generator: random);
        labels = torch.randint(0, classes, [count], generator: random);
        (Count, SequenceLength, VocabularySize, NumClasses) = (count, length, vocabulary, classes);
    }

    public int Count { get; }
    public int SequenceLength { get; }
    public int Variants => 1;
    public int VocabularySize { get; }
    public int NumClasses { get; }
    public string Permutation => TokenCache.IdentityPermutation;

    public TokenBatch Gather(Tensor indices, Tensor? variants = null) =>
        new(tokens.index_select(0, indices), labels.index_select(0, indices));

    public void Dispose()
    {
        tokens.Dispose();
        labels.Dispose();
    }
}
