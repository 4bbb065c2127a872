using IAR.Abstractions;
using IAR.ContractTests;
using TorchSharp;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace IAR.Tests.Foundation;

/// <summary>
/// The inherited contract tests catch a generator that forgets one vocabulary parameter: a bag-of-previous-tokens
/// generator with an input embedding, an output head and an output bias passes when it declares all three and fails
/// the equivariance and undeclared-tensor checks when it leaves one out. (The broken variants are private, so xunit
/// does not collect their inherited tests; these facts run them and expect failure.)
/// </summary>
public sealed class UndeclaredVocabularyParameterTests
{
    [Fact]
    public void Declaring_every_vocabulary_tensor_passes()
    {
        var tests = new Contract(omit: null);
        tests.Permuting_the_vocabulary_parameters_with_the_tokens_permutes_the_logits();
        tests.Every_vocabulary_indexed_tensor_is_declared();
    }

    [Theory]
    [InlineData("output.bias")]
    [InlineData("output.weight")]
    public void Leaving_out_an_output_tensor_fails_both_checks(string omit)
    {
        var tests = new Contract(omit);
        var e = Assert.ThrowsAny<XunitException>(tests.Permuting_the_vocabulary_parameters_with_the_tokens_permutes_the_logits);
        Assert.Contains("logits after permuting", e.Message);
        e = Assert.ThrowsAny<XunitException>(tests.Every_vocabulary_indexed_tensor_is_declared);
        Assert.Contains(omit, e.Message);
    }

    [Fact]
    public void Leaving_out_the_input_embedding_fails_the_equivariance_check()
    {
        var e = Assert.ThrowsAny<XunitException>(new Contract("tok_embeddings.weight").Permuting_the_vocabulary_parameters_with_the_tokens_permutes_the_logits);
        Assert.Contains("logits after permuting", e.Message);
    }

    [Fact]
    public void A_constant_over_the_vocabulary_gets_a_message_that_says_what_to_fix()
    {
        var e = Assert.ThrowsAny<XunitException>(new Contract(omit: null, constantBias: true).Every_vocabulary_indexed_tensor_is_declared);
        Assert.Contains("Test/bag: permuting its declared VocabularyParameters does not permute its logits, and no undeclared parameter or buffer has an axis of V = 24 entries", e.Message);
        Assert.Contains("register it as a parameter or buffer and declare it in VocabularyParameters with its vocabulary axis", e.Message);
        Assert.DoesNotContain("does not declare no", e.Message);
    }

    [Fact]
    public void The_check_leaves_the_generator_as_it_was()
    {
        torch.manual_seed(3);
        var gen = new BagOfTokens(StubTokenizer.Grid(16, 2, 3), 3, omit: "output.bias");
        gen.Module.train();
        var before = gen.Module.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
        Assert.NotEmpty(VocabularyParameterCheck.Undeclared(gen, 16));
        Assert.True(gen.Module.training);
        foreach (var (key, value) in gen.Module.state_dict()) TensorAssert.Identical(before[key], value, key);
    }

    sealed class Contract(string? omit, bool constantBias = false) : GeneratorContractTests
    {
        protected override IGenerator CreateGenerator(int seed, ITokenizer tokenizer)
        {
            torch.manual_seed(seed);
            return new BagOfTokens(tokenizer, numClasses: 3, omit, constantBias);
        }
    }

    /// <summary>logits[b, l] = head(mean of the embeddings of tokens before l + class embedding) + bias.</summary>
    sealed class BagOfTokens : IGenerator
    {
        readonly Network network;
        readonly string? omit;
        readonly bool constantBias;

        /// <param name="constantBias">Adds a fixed bias over the vocabulary that is no parameter or buffer (0, 1/V, 2/V, …).</param>
        public BagOfTokens(ITokenizer tokenizer, int numClasses, string? omit, bool constantBias = false)
        {
            this.constantBias = constantBias;
            var t = tokenizer.Info;
            Info = new GeneratorInfo("Test", "bag", GeneratorKind.NextToken, t.VocabularySize, numClasses, t.Layout, SupportsGuidance: false);
            network = new Network(t.VocabularySize, numClasses, dim: 8);
            this.omit = omit;
        }

        sealed class Network : nn.Module
        {
            public readonly TorchSharp.Modules.Embedding tok_embeddings;
            public readonly TorchSharp.Modules.Embedding cls_embedding;
            public readonly TorchSharp.Modules.Linear output;

            public Network(int vocabularySize, int numClasses, int dim) : base("BagOfTokens")
            {
                tok_embeddings = nn.Embedding(vocabularySize, dim);
                cls_embedding = nn.Embedding(numClasses, dim);
                output = nn.Linear(dim, vocabularySize, hasBias: true);
                RegisterComponents();
            }
        }

        public GeneratorInfo Info { get; }

        public nn.Module Module => network;

        public IReadOnlyList<VocabularyParameter> VocabularyParameters =>
            new VocabularyParameter[]
            {
                new("tok_embeddings.weight", network.tok_embeddings.weight!, 0),
                new("output.weight", network.output.weight!, 0),
                new("output.bias", network.output.bias!, 0),
            }.Where(p => p.Name != omit).ToArray();

        public GeneratorOutput Forward(TokenBatch batch)
        {
            using var scope = torch.NewDisposeScope();
            var l = batch.Tokens.shape[1];
            var embedded = network.tok_embeddings.forward(batch.Tokens);                        // [B, L, D]
            var before = torch.ones(l, l).tril(-1);                                               // [L, L], j < i
            var context = torch.matmul(before, embedded) / before.sum(1, keepdim: true).clamp_min(1);
            var h = context + network.cls_embedding.forward(batch.Labels).unsqueeze(1);           // [B, L, D]
            var logits = network.output.forward(h);                                               // [B, L, V]
            if (constantBias) logits = logits + torch.arange(Info.VocabularySize, dtype: logits.dtype) / Info.VocabularySize;
            return new GeneratorOutput(logits.MoveToOuterDisposeScope(), batch.Tokens);
        }

        public Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator) =>
            throw new NotSupportedException("Only the vocabulary checks use this generator.");
    }
}
