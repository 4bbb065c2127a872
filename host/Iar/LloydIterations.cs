using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace IAR.Host.Iar;

/// <summary>
/// The Lloyd loop shared by balanced and plain k-means: squared distances [V, n], the assignment step
/// (the only thing that differs), centres = cluster means. Stops when the assignment repeats or the centres stop
/// moving (the official <c>torch.allclose(centres, new_centres)</c>: rtol 1e-5, atol 1e-8), else at the limit.
/// </summary>
internal static class LloydIterations
{
    public static ClusteringResult Run(CodebookVectors vectors, int clusters, int[] initialCodes, int maxIterations, IClusterAssignment step)
    {
        var watch = Stopwatch.StartNew();
        int count = vectors.Count, dim = vectors.Dim;
        var centres = new double[clusters * dim];
        for (int j = 0; j < clusters; j++)
        {
            var row = vectors.Row(initialCodes[j]);
            for (int d = 0; d < dim; d++) centres[j * dim + d] = row[d];
        }
        var distances = new float[count * clusters];
        var assignment = new int[count];
        var previous = new int[count];
        Array.Fill(assignment, -1);
        var means = new double[clusters * dim];
        int iterations = 0;
        bool converged = false;

        while (iterations < maxIterations)
        {
            iterations++;
            SquaredDistances(vectors, centres, clusters, distances);
            Array.Copy(assignment, previous, count);
            step.Assign(distances, assignment);
            ClusteringQuality.ClusterMeans(vectors, assignment, clusters, means);
            bool unchanged = assignment.AsSpan().SequenceEqual(previous);
            bool still = AllClose(centres, means);
            (centres, means) = (means, centres);
            if (unchanged || still)
            {
                converged = true;
                break;
            }
        }
        double error = ClusteringQuality.WithinClusterError(vectors, assignment, clusters);
        return new ClusteringResult(assignment, clusters, iterations, converged, error, watch.Elapsed);
    }

    /// <summary>
    /// Σ_d (x_id − c_jd)² into <paramref name="output"/> [V·n], SIMD over clusters. Plain C# rather than a libtorch matmul:
    /// for D = 8 it is as fast, exact to float rounding (no ‖x‖² + ‖c‖² − 2x·c cancellation), deterministic, and immune
    /// to thread-pool stalls on a busy machine (a [16384, 8] × [8, 128] addmm took 1–200 ms there).
    /// </summary>
    static void SquaredDistances(CodebookVectors vectors, double[] centres, int clusters, float[] output)
    {
        int dim = vectors.Dim, count = vectors.Count, width = Vector<float>.Count;
        int padded = (clusters + width - 1) / width * width;
        var transposed = new float[dim * padded];   // [D, n] padded with zeros (their outputs are dropped)
        for (int j = 0; j < clusters; j++)
            for (int d = 0; d < dim; d++) transposed[d * padded + j] = (float)centres[j * dim + d];
        var data = vectors.Data;
        Parallel.For(0, (count + RowsPerTask - 1) / RowsPerTask, task =>
        {
            var broadcast = new Vector<float>[dim];
            Span<float> partial = stackalloc float[width];
            ref float centre = ref MemoryMarshal.GetArrayDataReference(transposed);
            ref float target = ref MemoryMarshal.GetArrayDataReference(output);
            int end = Math.Min(count, (task + 1) * RowsPerTask);
            for (int i = task * RowsPerTask; i < end; i++)
            {
                for (int d = 0; d < dim; d++) broadcast[d] = new Vector<float>(data[i * dim + d]);
                for (int j = 0; j < padded; j += width)
                {
                    var sum = Vector<float>.Zero;
                    for (int d = 0; d < dim; d++)
                    {
                        var diff = Vector.LoadUnsafe(ref centre, (nuint)(d * padded + j)) - broadcast[d];
                        sum = Vector.FusedMultiplyAdd(diff, diff, sum);
                    }
                    if (j + width <= clusters) sum.StoreUnsafe(ref target, (nuint)(i * clusters + j));
                    else
                    {
                        sum.CopyTo(partial);
                        partial[..(clusters - j)].CopyTo(output.AsSpan(i * clusters + j));
                    }
                }
            }
        });
    }

    const int RowsPerTask = 1024;

    static bool AllClose(double[] a, double[] b)
    {
        for (int i = 0; i < a.Length; i++)
            if (Math.Abs(a[i] - b[i]) > 1e-8 + 1e-5 * Math.Abs(b[i])) return false;
        return true;
    }
}

/// <summary>The assignment step of a Lloyd iteration.</summary>
internal interface IClusterAssignment
{
    /// <summary>Fills <paramref name="assignment"/> [V] from squared distances [V·n] (row-major, code-major).</summary>
    /// <param name="assignment">Holds the previous iteration's assignment (or −1s on the first call) on entry.</param>
    void Assign(float[] distances, int[] assignment);
}
