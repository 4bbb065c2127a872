namespace IAR.Host.Cli;

public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A runtime failure: unreadable data, a broken checkpoint, a diverged run.</summary>
    public const int Failure = 1;

    /// <summary>A usage or configuration error: nothing was run or written.</summary>
    public const int Usage = 2;

    public const int Interrupted = 130;
}
