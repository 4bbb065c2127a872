namespace IAR.Host.Experiments;

/// <summary>The key must be present in the YAML.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredKeyAttribute : Attribute;

/// <summary>
/// The value is a file-system path: relative paths in a YAML file are resolved against the file's folder,
/// relative paths given on the command line against the working directory.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PathValueAttribute : Attribute;
