using IAR.Host.Runs;
using IAR.Host.Cli;

return IarCommandLine.Run(args, ConsoleOutput.ForConsole());
