using IAR.Abstractions;
using Microsoft.Extensions.DependencyInjection;

namespace IAR.Plugins.VAR;

/// <summary>The plugin entry point the host discovers in VAR.dll.</summary>
public sealed class VARPlugin : IIarPlugin
{
    public string Name => "VAR";

    public string Description => "VAR: multi-scale residual VQVAE (VQVAE) and next-scale transformer (VAR), official key names";

    public void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<ITokenizerFactory, VqVaeTokenizerFactory>();
        services.AddSingleton<IGeneratorFactory, VarGeneratorFactory>();
    }
}
