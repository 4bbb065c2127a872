// Test classes run one after another: the contract tests seed TorchSharp's global generator right before building a
// model (as the host does), and a test running beside it would draw from the same generator.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
