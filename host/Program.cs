using IAR.Host.Cli;

return IarCommandLine.Run(args, CliContext.ForConsole());
