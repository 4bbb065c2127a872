using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Plugins.LlamaGen.Gpt;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.LlamaGen;

public class GptGeneratorTests
{
    static Tensor Labels(params long[] labels) => torch.tensor(labels);

    static TokenBatch Batch(GptGenerator g, int batch = 3, long seed = 1) => new(
        ContractSeeds.Tokens(batch, g.Info.Layout.SequenceLength, g.Info.VocabularySize, seed),
        ContractSeeds.Labels(batch, g.Info.NumClasses));

    [Fact]
    public void Vocabulary_grid_and_classes_come_from_the_tokenizer_and_data()
    {
        var tokenizer = LlamaGenTestModels.Tokenizer(options: new Dictionary<string, string> { ["codebook_size"] = "96" }, image: new ImageShape(1, 12, 8));
        var g = LlamaGenTestModels.Generator(tokenizer: tokenizer);
        Assert.Equal(96, g.Info.VocabularySize);
        Assert.Equal(TokenLayout.Grid(6, 4), g.Info.Layout);
        Assert.Equal(LlamaGenTestModels.NumClasses, g.Info.NumClasses);
        var state = g.Module.state_dict();
        Assert.Equal(new long[] { 96, 64 }, state["tok_embeddings.weight"].shape);
        Assert.Equal(new long[] { 96, 64 }, state["output.weight"].shape);
        Assert.Equal(new long[] { LlamaGenTestModels.NumClasses + 1, 64 }, state["cls_embedding.embedding_table.weight"].shape);
        Assert.Equal(new long[] { 1 + 24, 8, 2 }, g.Network.FreqsCis.shape);   // head_dim 16, 6×4 grid
    }

    [Fact]
    public void State_dict_has_the_official_keys_and_no_others()
    {
        var g = LlamaGenTestModels.Generator(options: new Dictionary<string, string> { ["n_layer"] = "1" });
        string[] expected =
        [
            "cls_embedding.embedding_table.weight", "tok_embeddings.weight",
            "layers.0.attention.wqkv.weight", "layers.0.attention.wo.weight",
            "layers.0.feed_forward.w1.weight", "layers.0.feed_forward.w3.weight", "layers.0.feed_forward.w2.weight",
            "layers.0.attention_norm.weight", "layers.0.ffn_norm.weight", "norm.weight", "output.weight",
        ];
        Assert.Equal(expected.Order(), g.Module.state_dict().Keys.Order());
        Assert.Equal(new long[] { 3 * 64, 64 }, g.Module.state_dict()["layers.0.attention.wqkv.weight"].shape);
        Assert.Equal(new long[] { 256, 64 }, g.Module.state_dict()["layers.0.feed_forward.w1.weight"].shape);   // find_multiple(170, 256)
    }

    [Fact]
    public void Official_init_zeroes_the_head_so_a_fresh_model_predicts_uniformly()
    {
        torch.manual_seed(0);
        var g = (GptGenerator)new GptGeneratorFactory().Create(new GeneratorRequest("GPT-T", new Dictionary<string, string>(),
            LlamaGenTestModels.Tokenizer(), 3));
        Assert.True(g.Module.state_dict()["output.weight"].eq(0).all().item<bool>());
        var std = g.Module.state_dict()["tok_embeddings.weight"].std().item<float>();
        Assert.InRange(std, 0.018, 0.022);   // N(0, 0.02)
    }

    [Fact]
    public void Logits_at_a_position_depend_only_on_the_class_and_earlier_tokens()
    {
        var g = LlamaGenTestModels.Generator();
        g.Module.eval();
        var batch = Batch(g);
        var changed = batch.Tokens.clone();
        changed[.., 5] = (changed[.., 5] + 1) % g.Info.VocabularySize;
        var a = g.Forward(batch).Logits;
        var b = g.Forward(batch with { Tokens = changed }).Logits;
        // Position p predicts token p from the class and tokens 0 … p−1: token 5 first influences position 6.
        TensorAssert.Identical(a[.., ..6], b[.., ..6], "logits up to the changed token");
        Assert.False(TensorAssert.AreIdentical(a[.., 6..], b[.., 6..]), "later logits ignore the changed token");
    }

    [Fact]
    public void Dropped_labels_use_the_null_class()
    {
        var g = LlamaGenTestModels.Generator();
        g.Module.eval();
        var batch = Batch(g);
        var all = torch.ones(3, ScalarType.Bool);
        var dropped = g.Forward(batch with { DropLabels = all }).Logits;
        var asNull = g.Network.forward(torch.full(3, LlamaGenTestModels.NumClasses, ScalarType.Int64), batch.Tokens[.., ..^1]);
        TensorAssert.Close(asNull, dropped, 0, 0, "dropped labels vs the null class");
        var none = g.Forward(batch with { DropLabels = torch.zeros(3, ScalarType.Bool) }).Logits;
        TensorAssert.Identical(g.Forward(batch).Logits, none, "no label dropped");
        Assert.False(TensorAssert.AreIdentical(none, dropped));
    }

    [Fact]
    public void Permuting_the_vocabulary_parameters_renumbers_the_vocabulary_without_changing_predictions()
    {
        var g = LlamaGenTestModels.Generator();
        g.Module.eval();
        var batch = Batch(g);
        var before = g.Forward(batch).Logits;                                                   // [B, L, V]
        var newToOld = torch.randperm(g.Info.VocabularySize, generator: new torch.Generator(3));
        var oldToNew = newToOld.argsort();
        using (torch.no_grad())
            foreach (var p in g.VocabularyParameters) p.Tensor.copy_(p.Tensor.index_select(p.Axis, newToOld));
        var after = g.Forward(batch with { Tokens = oldToNew.index_select(0, batch.Tokens.flatten()).view_as(batch.Tokens) }).Logits;
        TensorAssert.Close(before.index_select(2, newToOld), after, 1e-6, 1e-5, "renumbered logits");
    }

    [Fact]
    public void Kv_cache_step_logits_equal_the_teacher_forced_forward_on_the_generated_tokens()
    {
        var g = LlamaGenTestModels.Generator(seed: 2);
        g.Module.eval();
        var labels = Labels(0, 3, 4);
        var steps = new List<Tensor>();
        using var rng = new torch.Generator(7);
        var tokens = g.Generate(labels, new SamplingOptions(Temperature: 1.0), rng, l => steps.Add(l.clone().DetachFromDisposeScope()));
        var forward = g.Forward(new TokenBatch(tokens, labels)).Logits;                          // [B, L, V]
        TensorAssert.Close(forward, torch.stack(steps, 1), 1e-5, 1e-5, "cached step logits vs full forward");
    }

    [Fact]
    public void A_prefix_fed_in_chunks_through_the_cache_matches_one_causal_pass()
    {
        var g = LlamaGenTestModels.Generator(seed: 8);
        g.Module.eval();
        var net = g.Network;
        var batch = Batch(g, batch: 2);
        var embeddings = torch.cat([net.EmbedClasses(batch.Labels), net.EmbedTokens(batch.Tokens[.., ..^1])], 1);   // [B, 16, D]
        var whole = net.Hidden(embeddings, 0, null);
        var caches = net.CreateCaches(2, 16);
        var first = net.Hidden(embeddings[.., ..5], 0, caches);
        var rest = net.Hidden(embeddings[.., 5..], 5, caches);       // 11 queries after 5 cached positions
        TensorAssert.Close(whole, torch.cat([first, rest], 1), 1e-5, 1e-5, "chunked vs whole");
    }

    [Fact]
    public void Guidance_combines_conditional_and_null_class_logits()
    {
        var g = LlamaGenTestModels.Generator(seed: 4);
        g.Module.eval();
        var labels = Labels(1, 2);
        Tensor FirstStep(double cfg, GuidanceSchedule? schedule = null)
        {
            Tensor? first = null;
            g.Generate(labels, new SamplingOptions(CfgScale: cfg, TopK: 1, Schedule: schedule), null,
                l => first ??= l.clone().DetachFromDisposeScope());
            return first!;
        }
        var cond = FirstStep(1.0);
        var uncond = g.Network.Logits(g.Network.Hidden(g.Network.EmbedClasses(torch.full(2, LlamaGenTestModels.NumClasses, ScalarType.Int64)), 0, null)).select(1, 0);
        TensorAssert.Close(uncond + (cond - uncond) * 3.0, FirstStep(3.0), 1e-5, 1e-5, "cfg 3 at the first step");
        TensorAssert.Close(uncond, FirstStep(0.0), 1e-5, 1e-5, "cfg 0 is the unconditional model");
        // The linear schedule starts unguided and reaches the full scale at the last step.
        TensorAssert.Close(cond, FirstStep(3.0, GuidanceSchedule.Linear), 1e-5, 1e-5, "linear schedule, first step");
    }

    [Fact]
    public void Sampling_is_reproducible_under_a_seed_and_varies_with_it()
    {
        var g = LlamaGenTestModels.Generator();
        var labels = Labels(0, 1, 2, 3);
        Tensor Sample(ulong seed)
        {
            using var rng = new torch.Generator(seed);
            return g.Generate(labels, new SamplingOptions(CfgScale: 1.5, Temperature: 1.5, TopK: 20, TopP: 0.95), rng);
        }
        TensorAssert.Identical(Sample(5), Sample(5));
        Assert.False(TensorAssert.AreIdentical(Sample(5), Sample(6)));
    }

    [Fact]
    public void Generation_leaves_the_module_in_its_mode_and_samples_without_dropout()
    {
        var g = LlamaGenTestModels.Generator(options: new Dictionary<string, string> { ["resid_dropout_p"] = "0.5" });
        var labels = Labels(0, 1);
        g.Module.eval();
        var greedyEval = g.Generate(labels, new SamplingOptions(TopK: 1), null);
        g.Module.train();
        var greedyTrain = g.Generate(labels, new SamplingOptions(TopK: 1), null);
        Assert.True(g.Module.training);
        TensorAssert.Identical(greedyEval, greedyTrain);
    }

    [Fact]
    public void Generated_tokens_decode_to_images_through_the_tokenizer()
    {
        var tokenizer = LlamaGenTestModels.Tokenizer(image: new ImageShape(3, 8, 8));
        var g = LlamaGenTestModels.Generator(tokenizer: tokenizer);
        using var rng = new torch.Generator(3);
        var images = tokenizer.Decode(g.Generate(Labels(0, 4), new SamplingOptions(CfgScale: 1.5, TopK: 10), rng));
        Assert.Equal(new long[] { 2, 3, 8, 8 }, images.shape);
        Assert.True(images.min().item<float>() >= -1 && images.max().item<float>() <= 1);
    }

    [Fact]
    public void Batched_generation_equals_generating_each_label_alone()
    {
        var g = LlamaGenTestModels.Generator(seed: 6);
        var both = g.Generate(Labels(2, 4), new SamplingOptions(CfgScale: 2.0, TopK: 1), null);
        TensorAssert.Identical(both[..1], g.Generate(Labels(2), new SamplingOptions(CfgScale: 2.0, TopK: 1), null));
        TensorAssert.Identical(both[1..], g.Generate(Labels(4), new SamplingOptions(CfgScale: 2.0, TopK: 1), null));
    }

    [Fact]
    public void Grouped_query_attention_and_drop_path_build_and_run()
    {
        var g = LlamaGenTestModels.Generator(options: new Dictionary<string, string> { ["n_kv_head"] = "2", ["drop_path_rate"] = "0.2" });
        Assert.Equal(new long[] { (4 + 2 * 2) * 16, 64 }, g.Module.state_dict()["layers.0.attention.wqkv.weight"].shape);
        g.Module.train();
        Assert.True(g.Forward(Batch(g)).Logits.isfinite().all().item<bool>());
        var cached = g.Generate(Labels(0, 1), new SamplingOptions(TopK: 1), null);
        var recomputed = g.Generate(Labels(0, 1), new SamplingOptions(TopK: 1, UseKvCache: false), null);
        TensorAssert.Identical(cached, recomputed);
    }

    [Fact]
    public void Tokens_that_do_not_match_the_tokenizer_grid_or_vocabulary_are_rejected()
    {
        var g = LlamaGenTestModels.Generator();
        var labels = Labels(0, 1);
        var wrongLength = torch.zeros([2, 15], ScalarType.Int64);
        var e = Assert.Throws<ArgumentException>(() => g.Forward(new TokenBatch(wrongLength, labels)));
        Assert.Contains("[B, 16]", e.Message);
        Assert.Contains("4x4", e.Message);
        var outside = torch.full([2, 16], 64L, ScalarType.Int64);
        e = Assert.Throws<ArgumentException>(() => g.Forward(new TokenBatch(outside, labels)));
        Assert.Contains("[0, 64)", e.Message);
        e = Assert.Throws<ArgumentException>(() => g.Forward(new TokenBatch(torch.zeros([2, 16], ScalarType.Int64), Labels(0, 5))));
        Assert.Contains("5 classes", e.Message);
    }

    [Fact]
    public void Bad_sampling_options_are_configuration_errors()
    {
        var g = LlamaGenTestModels.Generator();
        var labels = Labels(0);
        foreach (var bad in new[]
                 {
                     new SamplingOptions(CfgScale: -0.5), new SamplingOptions(TopP: 0), new SamplingOptions(TopP: 1.01),
                     new SamplingOptions(Temperature: 0), new SamplingOptions(TopK: -1),
                 })
            Assert.Throws<ConfigurationException>(() => g.Generate(labels, bad, null));
        var noNull = LlamaGenTestModels.Generator(options: new Dictionary<string, string> { ["class_dropout_prob"] = "0" });
        Assert.False(noNull.Info.SupportsGuidance);
        var e = Assert.Throws<ConfigurationException>(() => noNull.Generate(labels, new SamplingOptions(CfgScale: 2), null));
        Assert.Contains("class_dropout_prob", e.Message);
        Assert.Throws<ConfigurationException>(() => noNull.Forward(Batch(noNull) with { DropLabels = torch.ones(3, ScalarType.Bool) }));
    }
}
