using IAR.Abstractions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace IAR.ContractTests;

/// <summary>
/// What every generator must do, next-token or next-scale. Derive, implement <see cref="CreateGenerator"/>
/// (small sizes keep the tests fast), and xunit runs every check against your generator.
/// </summary>
public abstract class GeneratorContractTests
{
    /// <summary>A fresh generator with weights initialised from <paramref name="seed"/>.</summary>
    protected abstract IGenerator CreateGenerator(int seed);

    protected virtual int BatchSize => 3;

    [Fact]
    public void Forward_gives_logits_over_the_vocabulary_for_every_position()
    {
        var gen = CreateGenerator(0);
        gen.Module.train();
        var info = gen.Info;
        using var _ = torch.NewDisposeScope();
        var tokens = ContractSeeds.Tokens(BatchSize, info.Layout.SequenceLength, info.VocabularySize);
        var output = gen.Forward(new TokenBatch(tokens, ContractSeeds.Labels(BatchSize, info.NumClasses)));
        Assert.Equal(new long[] { BatchSize, info.Layout.SequenceLength, info.VocabularySize }, output.Logits.shape);
        Assert.Equal(new long[] { BatchSize, info.Layout.SequenceLength }, output.Targets.shape);
        Assert.True(output.Logits.isfinite().all().item<bool>(), "logits are not finite");
    }

    [Fact]
    public void Forward_is_differentiable()
    {
        var gen = CreateGenerator(0);
        gen.Module.train();
        var info = gen.Info;
        var tokens = ContractSeeds.Tokens(BatchSize, info.Layout.SequenceLength, info.VocabularySize);
        var output = gen.Forward(new TokenBatch(tokens, ContractSeeds.Labels(BatchSize, info.NumClasses)));
        var loss = nn.functional.cross_entropy(output.Logits.reshape(-1, info.VocabularySize), output.Targets.reshape(-1));
        loss.backward();
        Assert.Contains(gen.Module.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Generate_returns_tokens_of_layout_length_within_vocabulary()
    {
        var gen = CreateGenerator(0);
        gen.Module.eval();
        var info = gen.Info;
        using var _ = torch.NewDisposeScope();
        using var rng = new torch.Generator(5);
        var cfg = info.SupportsGuidance ? 2.0 : 1.0;
        var tokens = gen.Generate(ContractSeeds.Labels(BatchSize, info.NumClasses), new SamplingOptions(CfgScale: cfg), rng);
        Assert.Equal(ScalarType.Int64, tokens.dtype);
        Assert.Equal(new long[] { BatchSize, info.Layout.SequenceLength }, tokens.shape);
        Assert.True(tokens.min().item<long>() >= 0 && tokens.max().item<long>() < info.VocabularySize);
    }

    [Fact]
    public void Generation_is_deterministic_under_a_seed()
    {
        var gen = CreateGenerator(0);
        gen.Module.eval();
        var info = gen.Info;
        using var _ = torch.NewDisposeScope();
        var labels = ContractSeeds.Labels(BatchSize, info.NumClasses);
        Tensor Sample(ulong seed)
        {
            using var rng = new torch.Generator(seed);
            return gen.Generate(labels, new SamplingOptions(Temperature: 1.0), rng);
        }
        TensorAssert.Identical(Sample(11), Sample(11));
    }

    [Fact]
    public void Kv_cache_and_full_recompute_agree_under_greedy_sampling()
    {
        var gen = CreateGenerator(3);
        gen.Module.eval();
        var info = gen.Info;
        using var _ = torch.NewDisposeScope();
        var labels = ContractSeeds.Labels(BatchSize, info.NumClasses);
        var cached = gen.Generate(labels, new SamplingOptions(TopK: 1, UseKvCache: true), null);
        var recomputed = gen.Generate(labels, new SamplingOptions(TopK: 1, UseKvCache: false), null);
        TensorAssert.Identical(cached, recomputed);
    }

    [Fact]
    public void Same_seed_gives_same_weights()
    {
        var a = CreateGenerator(4);
        var b = CreateGenerator(4);
        var sa = a.Module.state_dict();
        var sb = b.Module.state_dict();
        Assert.Equal(sa.Keys.Order(), sb.Keys.Order());
        foreach (var key in sa.Keys) TensorAssert.Identical(sa[key], sb[key], $"{key} (two builds with the same seed)");
    }

    [Fact]
    public void State_dict_round_trip_reproduces_logits()
    {
        var a = CreateGenerator(1);
        var b = CreateGenerator(2);
        StateDictRoundTrip.Copy(a.Module, b.Module, "generator");
        a.Module.eval();
        b.Module.eval();
        var info = a.Info;
        using var _ = torch.NewDisposeScope();
        var batch = new TokenBatch(ContractSeeds.Tokens(BatchSize, info.Layout.SequenceLength, info.VocabularySize),
            ContractSeeds.Labels(BatchSize, info.NumClasses));
        TensorAssert.Close(a.Forward(batch).Logits, b.Forward(batch).Logits, 1e-6, 1e-6, "logits");
    }

    [Fact]
    public void Vocabulary_parameters_are_state_dict_entries_indexed_by_token()
    {
        var gen = CreateGenerator(0);
        var state = gen.Module.state_dict();
        foreach (var p in gen.VocabularyParameters)
        {
            Assert.True(state.ContainsKey(p.Name), $"{p.Name} is not a state-dict key");
            Assert.Equal(gen.Info.VocabularySize, p.Tensor.shape[p.Axis]);
        }
    }

    [Fact]
    public void Bad_labels_and_sampling_options_are_rejected_clearly()
    {
        var gen = CreateGenerator(0);
        gen.Module.eval();
        var info = gen.Info;
        var outOfRange = torch.tensor(new long[] { info.NumClasses });
        var e = Assert.ThrowsAny<Exception>(() => gen.Generate(outOfRange, new SamplingOptions(), null));
        Assert.Contains(info.NumClasses.ToString(), e.Message);
        Assert.Throws<ConfigurationException>(() => gen.Generate(ContractSeeds.Labels(1, info.NumClasses), new SamplingOptions(CfgScale: -1), null));
        Assert.Throws<ConfigurationException>(() => gen.Generate(ContractSeeds.Labels(1, info.NumClasses), new SamplingOptions(TopP: 1.5), null));
    }
}
