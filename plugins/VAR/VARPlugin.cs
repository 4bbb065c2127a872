using IAR.Abstractions;
using Microsoft.Extensions.DependencyInjection;

namespace IAR.Plugins.VAR;

/// <summary>The plugin entry point the host discovers in VAR.dll.</summary>
public sealed class VARPlugin : IIarPlugin
{
    public string Name => "VAR";

    public string Description => "VAR (models land with their issue)";

    public void ConfigureServices(IServiceCollection services)
    {
    }
}
