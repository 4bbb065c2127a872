using static TorchSharp.torch;

namespace IAR.Tests.Parity;

/// <summary>
/// Runs our implementation on one kind of parity case. Handlers are found by reflection (every non-abstract
/// implementation in this assembly); a case whose kind has no handler fails loudly.
/// </summary>
public interface IParityHandler
{
    /// <summary>The case.json kind it handles, e.g. <c>llamagen-gpt-forward</c>.</summary>
    string Kind { get; }

    /// <summary>Our outputs by expected-tensor name; every name in case.json's compare must be present.</summary>
    IReadOnlyDictionary<string, Tensor> Run(ParityCase parityCase);
}
