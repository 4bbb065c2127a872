using IAR.Host.Configuration;
using IAR.Host.Runs;
using IAR.Abstractions;
using IAR.Host.Experiments;

namespace IAR.Host.Cli;

/// <summary>
/// Runs a command body and turns exceptions into one clear message and an exit code: configuration mistakes → 2,
/// bad data/checkpoints and other runtime failures → 1. Stack traces only with <c>--verbose</c>.
/// </summary>
public static class CommandGuard
{
    public static int Run(ConsoleOutput ctx, bool verbose, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ConfigValidationException e)
        {
            foreach (var error in e.Errors) ctx.Error.WriteLine($"error: {error}");
            return ExitCodes.Usage;
        }
        catch (ConfigurationException e)
        {
            ctx.Error.WriteLine($"error: {e.Message}");
            if (verbose) ctx.Error.WriteLine(e);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            ctx.Error.WriteLine("interrupted; the last checkpoint is kept and `iar run` resumes from it.");
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or RunFailedException or Distributed.RankLostException)
        {
            ctx.Error.WriteLine($"error: {e.Message}");
            if (verbose) ctx.Error.WriteLine(e);
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            ctx.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            ctx.Error.WriteLine(verbose ? e.ToString() : "(run with --verbose for the stack trace)");
            return ExitCodes.Failure;
        }
    }
}

public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A runtime failure: unreadable data, a broken checkpoint, a diverged run.</summary>
    public const int Failure = 1;

    /// <summary>A usage or configuration error: nothing was run or written.</summary>
    public const int Usage = 2;

    public const int Interrupted = 130;
}
