using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Distributed;

/// <summary>
/// What a native collective is handed for a tensor, summed or broadcast in place: the address of its first element,
/// the element count and NCCL's element type. TorchSharp 0.107 makes typed storages only for .NET element types
/// (<c>storage&lt;Half&gt;</c> of a bfloat16 tensor throws), so the address comes from LibTorchSharp's untyped
/// <c>THSStorage_data_ptr</c> (the storage's start, any dtype, any device) plus the tensor's storage offset. The NCCL
/// backend calls this with <see cref="DeviceType.CUDA"/>; a CPU test calls the same code with the CPU.
/// </summary>
public static class CollectiveBuffer
{
    /// <summary>The buffer of <paramref name="tensor"/>, which must be contiguous, on <paramref name="device"/>, of a summable dtype.</summary>
    /// <exception cref="ArgumentException">Another device, a non-contiguous view, or a dtype NCCL does not sum here.</exception>
    public static (IntPtr Address, nuint Count, int NcclType) Of(Tensor tensor, DeviceType device, string what)
    {
        if (tensor.device_type != device || !tensor.is_contiguous())
            throw new ArgumentException($"{what}: the collective works on contiguous {device} tensors (this one is on {tensor.device}{(tensor.is_contiguous() ? "" : ", not contiguous")}).");
        int type = NcclType(tensor.dtype, what);
        var start = THSStorage_data_ptr(tensor.Handle);
        if (start == IntPtr.Zero && tensor.NumberOfElements > 0)
            throw new ArgumentException($"{what}: the tensor has no storage to hand to the collective.");
        return (start + checked((nint)(tensor.storage_offset() * tensor.ElementSize)), (nuint)tensor.NumberOfElements, type);
    }

    /// <summary>NCCL's ncclDataType_t for the dtypes data parallel sums (gradients, losses, bf16 working copies).</summary>
    public static int NcclType(ScalarType dtype, string what) => dtype switch
    {
        ScalarType.Float32 => 7,    // ncclFloat32
        ScalarType.Float64 => 8,    // ncclFloat64
        ScalarType.BFloat16 => 9,   // ncclBfloat16
        _ => throw new ArgumentException($"{what}: NCCL sums float32, float64 and bfloat16 tensors here, not {dtype}."),
    };

    [DllImport("LibTorchSharp")]
    static extern IntPtr THSStorage_data_ptr(IntPtr tensor);
}
