namespace IAR.Host.Experiments;

public enum RunState
{
    Running,
    Complete,
    Failed,
}
