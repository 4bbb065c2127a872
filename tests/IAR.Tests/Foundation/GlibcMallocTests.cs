using IAR.Host.Native;

namespace IAR.Tests.Foundation;

public class GlibcMallocTests
{
    [Fact]
    public void The_host_fixes_mallocs_thresholds_on_glibc_and_the_switch_turns_it_off()
    {
        // Applied as the test assembly loaded (MklVendorPathSetup), as the host does; glibc is this machine's C library.
        if (Environment.GetEnvironmentVariable(GlibcMalloc.EnvironmentVariable) != "off")
            Assert.StartsWith("on: mmap threshold 32 MiB, trim threshold 128 MiB", GlibcMalloc.Status);
        Assert.Contains("malloc thresholds on: mmap threshold 32 MiB", MklVendorPathTests.Doctor(GlibcMalloc.EnvironmentVariable, null));
        Assert.Contains("malloc thresholds off (IAR_GLIBC_MALLOC=off)", MklVendorPathTests.Doctor(GlibcMalloc.EnvironmentVariable, "off"));
        Assert.Contains("IAR_GLIBC_MALLOC='yes' is neither auto nor off", MklVendorPathTests.Doctor(GlibcMalloc.EnvironmentVariable, "yes"));
    }
}
