using System.CommandLine;

namespace IAR.Host.Cli;

/// <summary>Options shared by several commands.</summary>
public static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print stack traces of errors.",
        Recursive = true,
    };

    public static Option<string?> Plugins() => new("--plugins")
    {
        Description = "Plugin folder (default: the YAML's 'plugins:', else plugins/ beside the executable).",
        HelpName = "DIR",
    };
}
