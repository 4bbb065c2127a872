using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>Picks the codes that serve as initial centres, from a seeded generator.</summary>
internal static class InitialCentres
{
    /// <returns>n distinct code indices.</returns>
    public static int[] Choose(CodebookVectors vectors, int clusters, KMeansInitialisation method, ulong seed)
    {
        using var generator = new torch.Generator(seed);
        return method switch
        {
            KMeansInitialisation.Random => RandomCodes(vectors.Count, clusters, generator),
            KMeansInitialisation.PlusPlus => PlusPlus(vectors, clusters, generator),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
        };
    }

    /// <summary>The official <c>randperm(V)[:n]</c>.</summary>
    static int[] RandomCodes(int count, int clusters, torch.Generator generator)
    {
        using var perm = torch.randperm(count, ScalarType.Int64, generator: generator);
        return perm.data<long>().Take(clusters).Select(x => (int)x).ToArray();
    }

    /// <summary>
    /// k-means++ (Arthur &amp; Vassilvitskii 2007): the first centre uniformly, each next one with probability
    /// proportional to its squared distance to the nearest centre chosen so far.
    /// </summary>
    static int[] PlusPlus(CodebookVectors vectors, int clusters, torch.Generator generator)
    {
        int count = vectors.Count;
        double[] uniforms;
        using (var u = torch.rand(clusters, ScalarType.Float64, generator: generator))
            uniforms = u.data<double>().ToArray();
        var chosen = new int[clusters];
        var nearest = new double[count];
        Array.Fill(nearest, double.PositiveInfinity);
        chosen[0] = Math.Min((int)(uniforms[0] * count), count - 1);
        for (int k = 1; k < clusters; k++)
        {
            int last = chosen[k - 1];
            double total = 0;
            for (int i = 0; i < count; i++)
            {
                nearest[i] = Math.Min(nearest[i], vectors.SquaredDistance(i, last));
                total += nearest[i];
            }
            chosen[k] = total > 0 ? Sample(nearest, uniforms[k] * total) : FirstUnchosen(chosen, k, count);
        }
        return chosen;
    }

    static int Sample(double[] weights, double target)
    {
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < weights.Length; i++)
        {
            if (weights[i] <= 0) continue;
            cumulative += weights[i];
            lastPositive = i;
            if (cumulative > target) return i;
        }
        return lastPositive;
    }

    /// <summary>All remaining codes coincide with chosen centres: take the lowest index not chosen yet.</summary>
    static int FirstUnchosen(int[] chosen, int k, int count)
    {
        var taken = new HashSet<int>(chosen.Take(k));
        for (int i = 0; i < count; i++)
            if (!taken.Contains(i)) return i;
        throw new InvalidOperationException("More clusters than codes.");
    }
}
