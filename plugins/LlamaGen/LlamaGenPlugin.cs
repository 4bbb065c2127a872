using IAR.Abstractions;
using Microsoft.Extensions.DependencyInjection;

namespace IAR.Plugins.LlamaGen;

/// <summary>The plugin entry point the host discovers in LlamaGen.dll.</summary>
public sealed class LlamaGenPlugin : IIarPlugin
{
    public string Name => "LlamaGen";

    public string Description => "LlamaGen (models land with their issue)";

    public void ConfigureServices(IServiceCollection services)
    {
    }
}
