using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Distributed;

/// <summary>
/// What data parallel adds to a training step, on top of <see cref="ProcessGroup"/>: the same starting state on every
/// rank, and gradients and logged values averaged over the ranks. Each rank computes the mean loss of its equal shard,
/// so the average of the ranks' gradients is the gradient of the global batch's mean loss, as one process computes it.
/// </summary>
public static class DataParallel
{
    /// <summary>
    /// Copies rank 0's parameters and buffers to every rank (one flat buffer per dtype). Ranks start from the same seed
    /// and the same checkpoint, so this changes nothing on the CPU; it guards against any initialisation that is not
    /// reproducible across processes (e.g. some CUDA kernels).
    /// </summary>
    public static void BroadcastState(ProcessGroup group, nn.Module module)
    {
        if (!group.IsDistributed) return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var tensors = module.state_dict().Values.Where(t => t.is_floating_point() && t.NumberOfElements > 0).ToArray();
        foreach (var sameType in tensors.GroupBy(t => t.dtype))
        {
            var members = sameType.ToArray();
            var flat = torch.cat(members.Select(t => t.detach().reshape(-1)).ToArray());   // [Σ numel]
            group.Broadcast(flat, "rank 0's initial weights");
            long offset = 0;
            foreach (var t in members)
            {
                t.copy_(flat.narrow(0, offset, t.NumberOfElements).view_as(t));
                offset += t.NumberOfElements;
            }
        }
    }

    /// <summary>
    /// Averages the gradients of <paramref name="parameters"/> over the ranks through one flat buffer per dtype (the
    /// bucket; a step has nothing to overlap it with, since TorchSharp has no backward hooks). A parameter that got a
    /// gradient on some rank but not on this one takes part with zeros; one no rank used keeps no gradient, as in one
    /// process. Returns whether any rank asked to stop (<paramref name="stop"/>): the agreement rides on the same exchange.
    /// </summary>
    public static bool AverageGradients(ProcessGroup group, IReadOnlyList<Tensor> parameters, bool stop, string what)
    {
        var flags = new bool[parameters.Count + 1];
        flags[0] = stop;
        for (int i = 0; i < parameters.Count; i++) flags[i + 1] = parameters[i].grad is not null;
        var any = group.AnyEach(flags, what);   // host memory: no device synchronisation
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var used = new List<Tensor>();
        for (int i = 0; i < parameters.Count; i++)
        {
            if (!any[i + 1]) continue;
            var p = parameters[i];
            if (p.grad is null) p.grad = torch.zeros_like(p).DetachFromDisposeScope();
            used.Add(p);
        }
        foreach (var sameType in used.GroupBy(p => p.grad!.dtype))
        {
            var members = sameType.ToArray();
            var flat = torch.cat(members.Select(p => p.grad!.reshape(-1)).ToArray());   // [Σ numel]
            group.SumInPlace(flat, what);
            flat.div_(group.Size);
            long offset = 0;
            foreach (var p in members)
            {
                p.grad!.copy_(flat.narrow(0, offset, p.NumberOfElements).view_as(p));
                offset += p.NumberOfElements;
            }
        }
        return any[0];
    }

    /// <summary>The mean over the ranks of <paramref name="values"/> (float64 [n], e.g. a step's losses), in place.</summary>
    public static void Average(ProcessGroup group, Tensor values, string what)
    {
        if (!group.IsDistributed) return;
        group.SumInPlace(values, what);
        values.div_(group.Size);
    }
}
