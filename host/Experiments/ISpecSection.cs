namespace IAR.Host.Experiments;

/// <summary>A section of the experiment schema that checks its own values after binding.</summary>
public interface ISpecSection
{
    /// <summary>Problems as (snake_case key, one-sentence message); empty when the section is valid.</summary>
    IEnumerable<(string Key, string Message)> Validate();
}
