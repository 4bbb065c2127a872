using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>
/// The codebook as the clustering sees it: V vectors of D floats, row-major on the CPU, L2-normalised when asked
/// (as the official code clusters <c>F.normalize(embedding)</c>). Checked for NaN/infinity on the way in.
/// </summary>
public sealed class CodebookVectors
{
    CodebookVectors(float[] data, int count, int dim)
    {
        Data = data;
        Count = count;
        Dim = dim;
    }

    /// <summary>[V·D], row-major.</summary>
    public float[] Data { get; }

    /// <summary>V.</summary>
    public int Count { get; }

    /// <summary>D.</summary>
    public int Dim { get; }

    public ReadOnlySpan<float> Row(int i) => Data.AsSpan(i * Dim, Dim);

    /// <param name="codebook">float [V, D] on any device.</param>
    /// <param name="normalize">Divide every row by max(‖row‖₂, 1e-12), like <c>F.normalize</c>.</param>
    /// <param name="source">What the codebook is, for messages, e.g. <c>vq.safetensors:quantize.embedding.weight</c>.</param>
    /// <exception cref="InvalidDataException">It is not 2-D, is empty, or has a NaN or infinite entry (the row is named).</exception>
    public static CodebookVectors From(Tensor codebook, bool normalize, string source = "codebook")
    {
        if (codebook.dim() != 2 || codebook.shape[0] < 1 || codebook.shape[1] < 1)
            throw new InvalidDataException($"{source} must be a non-empty [V, D] matrix, not [{string.Join(", ", codebook.shape)}].");
        int count = checked((int)codebook.shape[0]), dim = checked((int)codebook.shape[1]);
        float[] data;
        using (var scope = torch.NewDisposeScope())
        {
            var cpu = codebook.detach().to(ScalarType.Float32).cpu();
            var finite = cpu.isfinite().all(1);
            if (!finite.all().item<bool>())
            {
                long row = finite.logical_not().nonzero()[0, 0].item<long>();
                throw new InvalidDataException($"{source} has a NaN or infinite value in row {row}; a codebook must be finite to be clustered.");
            }
            // The same op as the official F.normalize(embedding, p=2, dim=-1): x / max(‖x‖₂, 1e-12).
            if (normalize) cpu = nn.functional.normalize(cpu, 2, 1, 1e-12);
            data = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(cpu.contiguous().bytes).ToArray();
        }
        return new CodebookVectors(data, count, dim);
    }

    /// <summary>The rows <paramref name="rows"/>, in that order (row i of the result is row rows[i] here).</summary>
    public CodebookVectors Subset(IReadOnlyList<int> rows)
    {
        var data = new float[rows.Count * Dim];
        for (int i = 0; i < rows.Count; i++) Row(rows[i]).CopyTo(data.AsSpan(i * Dim, Dim));
        return new CodebookVectors(data, rows.Count, Dim);
    }

    /// <summary>A new float [V, D] tensor on the CPU.</summary>
    public Tensor ToTensor() => torch.tensor(Data, [Count, Dim], ScalarType.Float32);

    /// <summary>Squared Euclidean distance between rows <paramref name="a"/> and <paramref name="b"/>, in double.</summary>
    public double SquaredDistance(int a, int b)
    {
        var x = Row(a);
        var y = Row(b);
        double sum = 0;
        for (int d = 0; d < x.Length; d++)
        {
            double diff = (double)x[d] - y[d];
            sum += diff * diff;
        }
        return sum;
    }
}
