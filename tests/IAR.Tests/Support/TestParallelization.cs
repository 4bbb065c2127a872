// Test classes run one after another, never side by side. Much of what these tests check reads process-wide
// TorchSharp state: the global random generator (two builds after torch.manual_seed(seed) must be identical;
// kill-and-resume trajectories must match bit for bit), the default device (official-size models built on the meta
// device) and the libtorch thread count. A test class that drew from the global generator while another was between
// manual_seed and its model build made that one fail at random (CI, OptimizerTests, 2026-11-24). Per-class
// collections could only fence in the classes someone remembered to mark; this fences in all of them. Measured on
// 2 cores: 1 min 47 s serial against 1 min 37–55 s in parallel, since libtorch already uses both cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
