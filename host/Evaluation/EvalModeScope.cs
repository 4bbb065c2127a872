using TorchSharp;

namespace IAR.Host.Evaluation;

/// <summary>Puts modules in eval mode for the scope's lifetime and restores each one's train/eval mode afterwards.</summary>
public sealed class EvalModeScope : IDisposable
{
    readonly (torch.nn.Module Module, bool Training)[] saved;

    public EvalModeScope(params torch.nn.Module[] modules)
    {
        saved = modules.Select(m => (m, m.training)).ToArray();
        foreach (var m in modules) m.eval();
    }

    public void Dispose()
    {
        foreach (var (module, training) in saved) module.train(training);
    }
}
