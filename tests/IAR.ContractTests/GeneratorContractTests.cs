using IAR.Abstractions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace IAR.ContractTests;

/// <summary>
/// What every generator must do, next-token or next-scale. Derive, implement <see cref="CreateGenerator"/>
/// (small sizes keep the tests fast), and xunit runs every check against your generator. The generators are built
/// for <see cref="CreateTokenizer"/>'s tokenizer: by default a <see cref="StubTokenizer"/> (no tokenizer plugin, no
/// host); override it when your generator needs a particular tokenizer.
/// </summary>
public abstract class GeneratorContractTests
{
    ITokenizer? tokenizer;

    /// <summary>
    /// A fresh generator for <paramref name="tokenizer"/> with weights initialised from <paramref name="seed"/>. Build
    /// it as the host does: <c>torch.manual_seed(seed)</c> right before your factory's <c>Create</c>. The tokenizer
    /// may be a <see cref="PermutedTokenizer"/> view of <see cref="CreateTokenizer"/>'s; read vocabulary and layout
    /// from it, and read indices only through it or through your declared vocabulary parameters.
    /// </summary>
    protected abstract IGenerator CreateGenerator(int seed, ITokenizer tokenizer);

    /// <summary>
    /// The tokenizer the generators are built for (called once per test): by default 24 codes on a 4×4 grid (V differs
    /// from L = 16 and from common hidden sizes, so no other axis is mistaken for the vocabulary's).
    /// </summary>
    protected virtual ITokenizer CreateTokenizer() => StubTokenizer.Grid(24, 4, 4);

    protected ITokenizer Tokenizer => tokenizer ??= CreateTokenizer();

    IGenerator CreateGenerator(int seed) => CreateGenerator(seed, Tokenizer);

    protected virtual int BatchSize => 3;

    /// <summary>
    /// atol = rtol for logits that should agree up to float reassociation (permuted rows of a matmul): float32 rounds at
    /// ~6e-8 relative per operation, and a few layers of reordered sums stay well below 1e-6; 1e-5 leaves that margin
    /// ×10 and still fails a permutation that moves a logit by a visible amount.
    /// </summary>
    protected virtual double LogitTolerance => 1e-5;

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
        // Same weights, same inputs, same kernels: bit-identical in practice; 1e-6 ≈ 8 float32 ulps (at magnitude 1) of slack for a
        // backend that picks another kernel for the copy's memory layout.
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

    [Fact]
    public void Permuting_the_vocabulary_parameters_with_the_tokens_permutes_the_logits()
    {
        var v = Tokenizer.Info.VocabularySize;
        var permutation = VocabularyPermutation.Random(v, seed: 17);
        var original = CreateGenerator(1);
        Perturb(original.Module, seed: 31);
        var permuted = CreateGenerator(2, new PermutedTokenizer(Tokenizer, permutation));
        StateDictRoundTrip.Copy(original.Module, permuted.Module, "generator");
        permutation.Rearrange(permuted.VocabularyParameters);
        original.Module.eval();
        permuted.Module.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var tokens = ContractSeeds.Tokens(BatchSize, original.Info.Layout.SequenceLength, v);
        var labels = ContractSeeds.Labels(BatchSize, original.Info.NumClasses);
        var before = original.Forward(new TokenBatch(tokens, labels));
        var after = permuted.Forward(new TokenBatch(permutation.ToNew(tokens), labels));
        TensorAssert.Identical(permutation.ToNew(before.Targets), after.Targets, "targets of the permuted tokens");
        TensorAssert.Close(before.Logits.index_select(-1, permutation.NewToOld), after.Logits, LogitTolerance, LogitTolerance,
            $"logits after permuting the declared vocabulary parameters ({string.Join(", ", original.VocabularyParameters.Select(p => p.Name))}) " +
            "and the tokens (a vocabulary-indexed tensor missing from VocabularyParameters breaks this)");
    }

    /// <summary>Least logit change that counts as "the output depends on it", after <see cref="Perturb"/>.</summary>
    double DependenceThreshold => Math.Max(10 * LogitTolerance, 1e-4);

    [Fact]
    public void Forward_depends_on_the_class_label_of_each_sample()
    {
        var gen = CreateGenerator(1);
        var info = gen.Info;
        Assert.True(info.NumClasses >= 2, $"a class-conditional generator needs 2 classes or more; this one has {info.NumClasses}");
        Perturb(gen.Module, seed: 31);   // a zero-initialised class embedding or head would hide the labels
        gen.Module.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var tokens = ContractSeeds.Tokens(BatchSize, info.Layout.SequenceLength, info.VocabularySize);
        var labels = ContractSeeds.Labels(BatchSize, info.NumClasses);
        var others = (labels + 1).remainder(info.NumClasses);                                  // [B], another class each
        var a = gen.Forward(new TokenBatch(tokens, labels)).Logits.to(ScalarType.Float64);     // [B, L, V]
        var b = gen.Forward(new TokenBatch(tokens, others)).Logits.to(ScalarType.Float64);
        var change = (a - b).abs().amax([1, 2]).nan_to_num(0).data<double>().ToArray();        // [B]
        Assert.True(change.All(c => c > DependenceThreshold),
            $"Forward ignores the class label: changing each sample's label (to label + 1) changes its logits by at most [{string.Join(", ", change.Select(c => c.ToString("G3")))}] " +
            $"(≤ {DependenceThreshold:G3} counts as no change). Feed TokenBatch.Labels into the model, e.g. as a class embedding or the first token.");
    }

    [Fact]
    public void Dropped_labels_are_replaced_by_the_null_class()
    {
        var gen = CreateGenerator(1);
        var info = gen.Info;
        if (!info.SupportsGuidance) return;   // no null class: DropLabels is refused, and guidance is never asked for
        Perturb(gen.Module, seed: 31);
        gen.Module.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var tokens = ContractSeeds.Tokens(BatchSize, info.Layout.SequenceLength, info.VocabularySize);
        var labels = ContractSeeds.Labels(BatchSize, info.NumClasses);
        var others = (labels + 1).remainder(info.NumClasses);
        var dropped = torch.ones(BatchSize, ScalarType.Bool);
        var conditional = gen.Forward(new TokenBatch(tokens, labels)).Logits;
        var nullA = gen.Forward(new TokenBatch(tokens, labels, dropped)).Logits;
        var nullB = gen.Forward(new TokenBatch(tokens, others, dropped)).Logits;
        TensorAssert.Close(nullA, nullB, LogitTolerance, LogitTolerance,
            "logits of dropped labels must not depend on the label (TokenBatch.DropLabels: use the null class, index NumClasses, where it is true)");
        var change = (conditional - nullA).abs().to(ScalarType.Float64).amax([1, 2]).nan_to_num(0).data<double>().ToArray();
        Assert.True(change.All(c => c > DependenceThreshold),
            $"Forward ignores TokenBatch.DropLabels: dropping each sample's label changes its logits by at most [{string.Join(", ", change.Select(c => c.ToString("G3")))}]; " +
            "where DropLabels is true, condition on the null class (index NumClasses) instead of the label.");
    }

    [Fact]
    public void Guidance_changes_greedy_samples()
    {
        var gen = CreateGenerator(3);
        var info = gen.Info;
        if (!info.SupportsGuidance) return;
        Perturb(gen.Module, seed: 31);
        gen.Module.eval();
        using var scope = torch.NewDisposeScope();
        var labels = ContractSeeds.Labels(BatchSize, info.NumClasses);
        var plain = gen.Generate(labels, new SamplingOptions(TopK: 1, CfgScale: 1.0), null);
        var guided = gen.Generate(labels, new SamplingOptions(TopK: 1, CfgScale: 4.0), null);
        Assert.False(plain.eq(guided).all().item<bool>(),
            "Greedy samples at cfg_scale 4 equal those at cfg_scale 1: Generate ignores guidance or its null class. " +
            "With cfg_scale ≠ 1, sample from uncond + cfg_scale · (cond − uncond), where uncond conditions on the null class (index NumClasses).");
    }

    [Fact]
    public void Every_vocabulary_indexed_tensor_is_declared()
    {
        var gen = CreateGenerator(1);
        Perturb(gen.Module, seed: 31);
        var problem = VocabularyParameterCheck.Problem(gen, gen.Info.VocabularySize);
        Assert.True(problem is null, problem);
    }

    /// <summary>Seeded noise on every float parameter, so a zero-initialised head or bias takes part in the checks.</summary>
    static void Perturb(nn.Module module, long seed) => VocabularyParameterCheck.Perturb(module, seed);
}
