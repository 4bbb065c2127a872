using System.Runtime.InteropServices;
using IAR.Host.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>
/// The buffer the NCCL backend hands to ncclAllReduce / ncclBroadcast (<see cref="CollectiveBuffer"/>), exercised on
/// CPU tensors: the address, count and type it returns must be the tensor's own elements, read and written in place,
/// for every dtype data parallel sums (bf16 included) and for a view that starts inside its storage.
/// </summary>
public class CollectiveBufferTests
{
    public static TheoryData<ScalarType, int> Dtypes => new()
    {
        { ScalarType.Float32, 7 }, { ScalarType.Float64, 8 }, { ScalarType.BFloat16, 9 },
    };

    [Theory]
    [MemberData(nameof(Dtypes))]
    public void The_buffer_is_the_tensors_own_memory_read_and_written_in_place(ScalarType dtype, int ncclType)
    {
        using var whole = torch.arange(0, 24, dtype: ScalarType.Float32).to(dtype);
        using var view = whole.narrow(0, 5, 12);                                   // [12], storage offset 5
        using var incoming = torch.arange(100, 112, dtype: ScalarType.Float32).to(dtype);   // what the peers' sum writes back
        var (address, count, type) = CollectiveBuffer.Of(view, DeviceType.CPU, "gradients");
        Assert.Equal((nuint)12, count);
        Assert.Equal(ncclType, type);

        // Reading: the bytes at the address are the view's elements, not the storage's first ones.
        var bytes = new byte[12 * view.ElementSize];
        Marshal.Copy(address, bytes, 0, bytes.Length);
        Assert.Equal(view.contiguous().bytes.ToArray(), bytes);

        // Writing, as the collective does in place: the view takes the new values, its neighbours keep theirs.
        var written = incoming.bytes.ToArray();
        Marshal.Copy(written, 0, address, written.Length);
        Assert.True(view.allclose(incoming, 0, 0), $"{dtype}: the view does not hold what was written at its address");
        using var expected = torch.cat([torch.arange(0, 5, dtype: ScalarType.Float32), torch.arange(100, 112, dtype: ScalarType.Float32),
            torch.arange(17, 24, dtype: ScalarType.Float32)]).to(dtype);
        Assert.True(whole.allclose(expected, 0, 0), $"{dtype}: the write reached elements outside the view");
    }

    [Fact]
    public void Other_devices_views_and_dtypes_are_refused_with_the_reason()
    {
        using var grid = torch.zeros(4, 4);
        using var columns = grid.t();
        Assert.Contains("contiguous CUDA tensors (this one is on cpu)",
            Assert.Throws<ArgumentException>(() => CollectiveBuffer.Of(grid, DeviceType.CUDA, "gradients")).Message);
        Assert.Contains("not contiguous", Assert.Throws<ArgumentException>(() => CollectiveBuffer.Of(columns, DeviceType.CPU, "gradients")).Message);
        using var counts = torch.zeros(3, ScalarType.Int64);
        Assert.Contains("losses: NCCL sums float32, float64 and bfloat16 tensors here, not Int64",
            Assert.Throws<ArgumentException>(() => CollectiveBuffer.Of(counts, DeviceType.CPU, "losses")).Message);
    }
}
