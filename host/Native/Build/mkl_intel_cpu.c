/*
 * Answers the question libtorch's bundled MKL asks before it picks a code path, "is this an Intel CPU?", with yes,
 * so that on AMD CPUs MKL dispatches on the CPU's features (AVX2, AVX-512) instead of taking its generic path.
 * MKL calls mkl_serv_intel_cpu_true through libtorch_cpu.so's PLT; this library, loaded with RTLD_GLOBAL before
 * libtorch (host/Native/MklVendorPath.cs), comes first in the lookup and so answers instead of MKL's own function.
 * Built at build time by host/Native/Build/TorchSharpNatives.targets into libiar_mkl_intel_cpu.so.
 */

static long checks;

int mkl_serv_intel_cpu_true(void)
{
    __atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);
    return 1;
}

/* How often MKL asked: > 0 proves that MKL's lookup reached this library rather than its own answer. */
long iar_mkl_intel_cpu_checks(void)
{
    return __atomic_load_n(&checks, __ATOMIC_RELAXED);
}
