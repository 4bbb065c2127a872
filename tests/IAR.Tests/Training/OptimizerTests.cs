using IAR.ContractTests;
using IAR.Host.Experiments;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

public class OptimizerTests
{
    /// <summary>A 2-layer MLP with biases: weights (2-D) decay, biases (1-D) do not.</summary>
    static nn.Module<Tensor, Tensor> Mlp(int seed)
    {
        torch.manual_seed(seed);
        return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3));
    }

    static void Backward(nn.Module<Tensor, Tensor> model, int step)
    {
        using var g = new torch.Generator((ulong)(100 + step));
        using var x = torch.randn([8, 6], generator: g);
        using var loss = model.call(x).pow(2).mean();
        loss.backward();
    }

    [Fact]
    public void Matches_TorchSharps_AdamW_with_decay_only_on_matrices()
    {
        var mine = Mlp(1);
        var theirs = Mlp(1);
        using var adamw = new AdamW(mine.named_parameters(), 0.9, 0.95, weightDecay: 0.1);
        Assert.Equal(["0.weight", "2.weight"], adamw.Decayed);
        var matrices = theirs.parameters().Where(p => p.dim() >= 2).ToList();
        var vectors = theirs.parameters().Where(p => p.dim() < 2).ToList();
        var reference = torch.optim.AdamW(
        [
            new TorchSharp.Modules.AdamW.ParamGroup(matrices, lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1),
            new TorchSharp.Modules.AdamW.ParamGroup(vectors, lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.0),
        ], lr: 0.01);
        for (int step = 0; step < 20; step++)
        {
            adamw.ZeroGrad();
            Backward(mine, step);
            adamw.Step(0.01);
            reference.zero_grad();
            Backward(theirs, step);
            reference.step();
        }
        foreach (var ((name, a), (_, b)) in mine.named_parameters().Zip(theirs.named_parameters()))
            TensorAssert.Close(b.detach(), a.detach(), atol: 1e-7, rtol: 1e-6, what: name);
    }

    [Fact]
    public void Restoring_the_state_continues_bit_for_bit()
    {
        var straight = Mlp(2);
        using var straightOpt = new AdamW(straight.named_parameters(), 0.9, 0.99, 0.05);
        var resumed = Mlp(3);   // other initial weights, overwritten by the "checkpoint" below
        using var resumedOpt = new AdamW(resumed.named_parameters(), 0.9, 0.99, 0.05);
        for (int step = 0; step < 12; step++)
        {
            if (step == 5)
            {
                var weights = straight.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
                var state = straightOpt.State().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
                resumed.load_state_dict(weights);
                resumedOpt.Load(state, straightOpt.StepCount, "memory");
            }
            straightOpt.ZeroGrad();
            Backward(straight, step);
            straightOpt.Step(0.003);
            if (step >= 5)
            {
                resumedOpt.ZeroGrad();
                Backward(resumed, step);
                resumedOpt.Step(0.003);
            }
        }
        foreach (var ((name, a), (_, b)) in straight.named_parameters().Zip(resumed.named_parameters()))
            TensorAssert.Identical(a.detach(), b.detach(), name);
    }

    [Fact]
    public void A_state_of_another_model_is_refused_by_name()
    {
        using var adamw = new AdamW(Mlp(1).named_parameters(), 0.9, 0.95, 0);
        var state = adamw.State().ToDictionary(kv => kv.Key, kv => kv.Value);
        state.Remove("exp_avg.2.bias");
        Assert.Contains("lacks the optimizer state exp_avg.2.bias", Assert.Throws<InvalidDataException>(() => adamw.Load(state, 1, "ckpt")).Message);
        state["exp_avg.2.bias"] = torch.zeros(4);
        Assert.Contains("of shape [4]", Assert.Throws<InvalidDataException>(() => adamw.Load(state, 1, "ckpt")).Message);
    }

    [Fact]
    public void Clipping_matches_torch_clip_grad_norm()
    {
        var a = Mlp(4);
        var b = Mlp(4);
        Backward(a, 0);
        Backward(b, 0);
        double norm = GradientClipping.ClipGlobalNorm(a.parameters(), 0.05);
        double reference = nn.utils.clip_grad_norm_(b.parameters(), 0.05);
        TensorAssert.Close(reference, norm, atol: 1e-5, rtol: 0);
        Assert.True(norm > 0.05, "the test needs a norm above the limit");
        foreach (var (p, q) in a.parameters().Zip(b.parameters()))
            TensorAssert.Close(q.grad!, p.grad!, atol: 1e-8, rtol: 1e-6);
        double after = Math.Sqrt(a.parameters().Sum(p => p.grad!.pow(2).sum().item<float>()));
        Assert.Equal(0.05, after, 4);
    }

    [Fact]
    public void The_ema_warm_up_ramps_the_decay_from_a_tenth_to_the_configured_value()
    {
        var model = Mlp(6);
        using var ema = new ExponentialMovingAverage(model, 0.9, warmup: true);
        Assert.Equal(0.1, ema.DecayAt(0), 12);
        Assert.Equal(0.5, ema.DecayAt(8), 12);                       // (1 + 8) / (10 + 8)
        Assert.Equal(0.9, ema.DecayAt(80), 12);                      // 81/90 = 0.9: the ramp meets the decay
        Assert.Equal(0.9, ema.DecayAt(1000), 12);
        for (long t = 0; t < 200; t++) Assert.True(ema.DecayAt(t + 1) >= ema.DecayAt(t));

        var first = model.parameters().First();
        using var start = first.detach().clone();
        using (torch.no_grad()) first.add_(10.0);
        ema.Update(step: 0);   // shadow = 0.1·start + 0.9·(start + 10) = start + 9
        using (ema.SwapIn()) TensorAssert.Close(start + 9, first.detach(), 1e-5, 0);
        using (torch.no_grad()) first.add_(10.0);
        ema.Update(step: 1000);   // shadow = 0.9·(start + 9) + 0.1·(start + 20) = start + 10.1
        using (ema.SwapIn()) TensorAssert.Close(start + 10.1, first.detach(), 1e-5, 0);

        using var constant = new ExponentialMovingAverage(model, 0.9, warmup: false);
        Assert.Equal(0.9, constant.DecayAt(0), 12);
    }

    [Fact]
    public void The_schedule_warms_up_linearly_then_decays_by_cosine_to_the_floor()
    {
        var cosine = new LearningRateSchedule(1.0, WarmupSteps: 10, TotalSteps: 110, LrSchedule.Cosine, MinLrRatio: 0.1);
        Assert.Equal(0.1, cosine.At(0), 12);
        Assert.Equal(0.5, cosine.At(4), 12);
        Assert.Equal(1.0, cosine.At(10), 12);
        Assert.Equal(0.1 + 0.9 * 0.5 * (1 + 0.5), cosine.At(10 + 33), 12);   // a third of the way: cos(π/3) = 1/2
        Assert.Equal(0.1, cosine.At(109), 12);
        for (long s = 10; s < 109; s++) Assert.True(cosine.At(s + 1) <= cosine.At(s));
        var constant = new LearningRateSchedule(2.0, 0, 50, LrSchedule.Constant, 0.1);
        Assert.All(Enumerable.Range(0, 50), s => Assert.Equal(2.0, constant.At(s)));
    }

    [Fact]
    public void The_ema_follows_the_weights_and_swaps_in_and_out()
    {
        var model = Mlp(5);
        using var ema = new ExponentialMovingAverage(model, 0.5, warmup: false);
        var first = model.parameters().First();
        using var start = first.detach().clone();
        using (torch.no_grad()) first.add_(2.0);
        ema.Update(step: 0);   // shadow = 0.5·start + 0.5·(start + 2) = start + 1
        using (ema.SwapIn()) TensorAssert.Close(start + 1, first.detach(), 1e-6, 0);
        TensorAssert.Close(start + 2, first.detach(), 1e-6, 0);
        ema.ApplyTo();
        TensorAssert.Close(start + 1, first.detach(), 1e-6, 0);
    }

    [Fact]
    public void The_sampler_visits_every_image_once_per_epoch_and_depends_only_on_the_step()
    {
        var sampler = new EpochSampler(count: 10, batchSize: 4, seed: 7);
        var firstEpoch = Enumerable.Range(0, 5).SelectMany(s => sampler.Indices(s).data<long>().ToArray()).ToArray();   // 20 = 2 epochs
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), firstEpoch[..10].Order());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), firstEpoch[10..].Order());
        Assert.NotEqual(firstEpoch[..10], firstEpoch[10..]);
        var fresh = new EpochSampler(10, 4, 7);
        Assert.Equal(firstEpoch[12..16], fresh.Indices(3).data<long>().ToArray());
        Assert.NotEqual(firstEpoch[..4], new EpochSampler(10, 4, 8).Indices(0).data<long>().ToArray());
    }
}
