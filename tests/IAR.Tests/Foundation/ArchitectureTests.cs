using ArchUnitNET.Domain;
using ArchUnitNET.Fluent.Slices;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace IAR.Tests.Foundation;

/// <summary>
/// The host's folders (one namespace each: IAR.Host.Iar, IAR.Host.Training, …) import each other without cycles, so
/// each can be read knowing only the folders below it; the contracts depend on nothing of the host.
/// </summary>
public class ArchitectureTests
{
    static readonly System.Reflection.Assembly HostAssembly = typeof(IAR.Host.Runs.RunLayout).Assembly;

    static readonly Architecture Code = new ArchLoader()
        .LoadAssemblies(HostAssembly, typeof(IAR.Abstractions.IGenerator).Assembly)
        .Build();

    [Fact]
    public void The_host_folders_import_each_other_without_cycles() =>
        SliceRuleDefinition.Slices().Matching("IAR.Host.(*)").Should().BeFreeOfCycles().Check(Code);

    [Fact]
    public void The_contracts_depend_on_nothing_of_the_host() =>
        Types().That().ResideInNamespace("IAR.Abstractions").Should().NotDependOnAny(Types().That().ResideInAssembly(HostAssembly)).Check(Code);
}
