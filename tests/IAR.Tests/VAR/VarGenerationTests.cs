using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Plugins.VAR;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.VAR;

/// <summary>Scale-by-scale generation agrees with the teacher-forced forward, and guidance follows the official rule.</summary>
public class VarGenerationTests
{
    static (VarGenerator Generator, Tensor Labels) Model()
    {
        var generator = VarTestModels.Generator(21);
        generator.Module.eval();
        return (generator, torch.tensor(new long[] { 0, 3, 1 }));
    }

    static List<Tensor> GenerateObserving(VarGenerator generator, Tensor labels, SamplingOptions options, out Tensor tokens)
    {
        var observed = new List<Tensor>();
        tokens = generator.Generate(labels, options, null, (_, logits) => observed.Add(logits.clone().MoveToOuterDisposeScope()));
        return observed;
    }

    [Fact]
    public void Kv_cache_logits_equal_the_teacher_forced_forward_on_the_generated_indices()
    {
        var (generator, labels) = Model();
        using var scope = torch.NewDisposeScope();
        var observed = GenerateObserving(generator, labels, new SamplingOptions(TopK: 1), out var tokens);
        var teacherForced = generator.Forward(new TokenBatch(tokens, labels)).Logits;
        var offsets = generator.Info.Layout.ScaleOffsets;
        for (int si = 0; si < observed.Count; si++)
            TensorAssert.Close(teacherForced[.., offsets[si]..offsets[si + 1]], observed[si], 1e-5, 1e-5, $"scale {si}");
    }

    [Fact]
    public void Linear_guidance_leaves_the_first_scale_unguided_and_constant_guidance_mixes_with_the_null_class()
    {
        var (generator, labels) = Model();
        using var scope = torch.NewDisposeScope();
        double s = 3.0;
        var linear = GenerateObserving(generator, labels, new SamplingOptions(CfgScale: s, TopK: 1, Schedule: GuidanceSchedule.Linear), out var tokens);
        var constant = GenerateObserving(generator, labels, new SamplingOptions(CfgScale: s, TopK: 1, Schedule: GuidanceSchedule.Constant), out _);

        // Scale 0 sees only the class token, so the teacher-forced forward gives its conditional and null-class logits.
        var cond = generator.Forward(new TokenBatch(tokens, labels)).Logits[.., ..1];
        var uncond = generator.Forward(new TokenBatch(tokens, labels, torch.ones(3, dtype: ScalarType.Bool))).Logits[.., ..1];
        TensorAssert.Close(cond, linear[0], 1e-5, 1e-5, "linear schedule, scale 0");
        TensorAssert.Close(cond * s - uncond * (s - 1), constant[0], 1e-5, 1e-5, "constant schedule, scale 0");
        Assert.False(TensorAssert.AreIdentical(cond, uncond), "the null class changes nothing; the check above would be vacuous");
    }

    [Fact]
    public void Guidance_scale_one_is_plain_conditional_sampling()
    {
        var (generator, labels) = Model();
        using var scope = torch.NewDisposeScope();
        var plain = GenerateObserving(generator, labels, new SamplingOptions(CfgScale: 1, TopK: 1), out var tokens);
        var teacherForced = generator.Forward(new TokenBatch(tokens, labels)).Logits;
        TensorAssert.Close(teacherForced[.., ^16..], plain[^1], 1e-5, 1e-5, "last scale");
    }
}
