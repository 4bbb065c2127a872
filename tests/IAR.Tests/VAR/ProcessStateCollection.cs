namespace IAR.Tests.VAR;

/// <summary>
/// Tests that rely on process-wide TorchSharp state — the default device (official-size models built on the meta
/// device, without memory) or the global random generator (two builds after <c>torch.manual_seed(seed)</c> must be
/// identical) — must not run beside other tests: xunit runs this collection alone, after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(ProcessStateCollection), DisableParallelization = true)]
public sealed class ProcessStateCollection;
