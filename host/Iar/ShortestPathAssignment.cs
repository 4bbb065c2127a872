using System.Numerics;

namespace IAR.Host.Iar;

/// <summary>
/// The exact minimum-cost assignment of V codes to n clusters of exactly m = V/n (a transportation problem), by
/// successive shortest paths on the n-node cluster graph.
/// <para>
/// Invariant: with cluster prices p, every code sits in a cluster minimising distance + price; such an assignment is
/// optimal for its own (unbalanced) cluster sizes. Moving one code from cluster b to c costs at least
/// W[b,c] = min over codes i of b of (d[i,c] − d[i,b]), and the reduced cost W[b,c] + p[c] − p[b] is ≥ 0. Each step
/// runs Dijkstra (dense, O(n²), SIMD) from the over-full clusters to the nearest under-full one, moves one code along
/// every edge of that path and lowers the prices by the distances found, which keeps the invariant. When no cluster is
/// over-full the assignment is optimal for sizes m (up to float rounding; no ε).
/// </para>
/// <para>
/// W (and which code attains each entry) is kept exact incrementally: a code joining b lowers W[b,·] elementwise; a
/// code leaving b rescans only the columns it attained. Prices are kept across Lloyd iterations: centres move little, so "nearest under the old
/// prices" is already almost balanced and few paths are needed.
/// </para>
/// </summary>
internal sealed class ShortestPathAssignment : IClusterAssignment
{
    static readonly int Width = Vector<float>.Count;

    readonly int count, clusters, capacity;
    readonly double[] price;          // [n] p
    readonly float[] priceSingle;     // [n] p as float, for the SIMD loops
    readonly float[] edge;            // [n·n] W
    readonly int[] edgeCode;          // [n·n] the code of b attaining W[b,c] (−1 when b is empty)
    readonly List<int>[] members;     // the codes of each cluster
    readonly int[] position;          // index of each code in its cluster's member list
    readonly float[] distance;        // [n] Dijkstra distances
    readonly float[] unsettled;       // [n] 0 once settled, else 1 (a SIMD mask source)
    readonly int[] previous;          // [n] predecessor on the shortest path, −1 at a source

    public ShortestPathAssignment(int count, int clusters, int capacity)
    {
        if ((long)clusters * capacity != count)
            throw new ArgumentException($"{clusters} clusters of {capacity} do not hold {count} codes.");
        this.count = count;
        this.clusters = clusters;
        this.capacity = capacity;
        int padded = (clusters + Width - 1) / Width * Width;   // SIMD loops run over whole vectors
        price = new double[clusters];
        priceSingle = new float[padded];
        edge = new float[clusters * padded];
        edgeCode = new int[clusters * padded];
        members = Enumerable.Range(0, clusters).Select(_ => new List<int>(capacity)).ToArray();
        position = new int[count];
        distance = new float[padded];
        unsettled = new float[padded];
        previous = new int[padded];
        Stride = padded;
    }

    /// <summary>Row length of W (n rounded up to whole SIMD vectors; padding columns stay +∞).</summary>
    int Stride { get; }

    /// <summary>Codes moved along shortest paths so far (for benchmarks).</summary>
    public long Moves { get; private set; }

    /// <summary>Shortest-path searches so far (for benchmarks).</summary>
    public long Paths { get; private set; }

    public void Assign(float[] distances, int[] assignment)
    {
        SyncPrices();
        foreach (var list in members) list.Clear();
        Array.Fill(edge, float.PositiveInfinity);
        Array.Fill(edgeCode, -1);
        // One pass in code order: each code to its cheapest cluster, and W updated while its row is in cache.
        for (int i = 0; i < count; i++)
        {
            int b = CheapestCluster(distances.AsSpan(i * clusters, clusters));
            assignment[i] = b;
            position[i] = members[b].Count;
            members[b].Add(i);
            Join(distances, b, i);
        }
        while (ShortestPath(out int sink))
        {
            Paths++;
            for (int v = sink, u = previous[v]; u >= 0; v = u, u = previous[v]) Move(distances, assignment, u, v);
        }
    }

    void SyncPrices()
    {
        for (int j = 0; j < clusters; j++) priceSingle[j] = (float)price[j];
    }

    /// <summary>argmin over clusters of distance + price (ties to the lower cluster; SIMD over clusters).</summary>
    int CheapestCluster(ReadOnlySpan<float> row)
    {
        int full = clusters - clusters % Width, best = -1;
        float bestCost = float.PositiveInfinity;
        if (full > 0)
        {
            var lanes = Vector<int>.Indices;
            var minimum = new Vector<float>(row) + new Vector<float>(priceSingle);
            var index = lanes;
            for (int j = Width; j < full; j += Width)
            {
                var cost = new Vector<float>(row[j..]) + new Vector<float>(priceSingle, j);
                var lower = Vector.LessThan(cost, minimum);
                minimum = Vector.ConditionalSelect(lower, cost, minimum);
                index = Vector.ConditionalSelect(lower, lanes + new Vector<int>(j), index);
            }
            for (int lane = 0; lane < Width; lane++)
                if (minimum[lane] < bestCost || (minimum[lane] == bestCost && index[lane] < best))
                {
                    bestCost = minimum[lane];
                    best = index[lane];
                }
        }
        for (int j = full; j < clusters; j++)
        {
            float cost = row[j] + priceSingle[j];
            if (cost < bestCost)
            {
                bestCost = cost;
                best = j;
            }
        }
        return best;
    }

    /// <summary>Code i joins b: W[b, ·] = min(W[b, ·], d[i, ·] − d[i, b]), remembering which code attains it.</summary>
    void Join(float[] distances, int b, int i)
    {
        var row = edge.AsSpan(b * Stride, clusters);
        var codes = edgeCode.AsSpan(b * Stride, clusters);
        var d = distances.AsSpan(i * clusters, clusters);
        var own = new Vector<float>(d[b]);
        var code = new Vector<int>(i);
        int full = clusters - clusters % Width;
        for (int c = 0; c < full; c += Width)
        {
            var candidate = new Vector<float>(d[c..]) - own;
            var current = new Vector<float>(row[c..]);
            var lower = Vector.LessThan(candidate, current);
            Vector.ConditionalSelect(lower, candidate, current).CopyTo(row[c..]);
            Vector.ConditionalSelect(lower, code, new Vector<int>(codes[c..])).CopyTo(codes[c..]);
        }
        for (int c = full; c < clusters; c++)
        {
            float candidate = d[c] - d[b];
            if (candidate < row[c])
            {
                row[c] = candidate;
                codes[c] = i;
            }
        }
    }

    /// <summary>
    /// Code k left b: the entries of W[b, ·] that k attained are recomputed, by rescanning those columns when they are
    /// few, else by rebuilding the row (SIMD over all members; cheaper than many strided column scans).
    /// </summary>
    void Leave(float[] distances, int b, int k)
    {
        int start = b * Stride, attained = 0;
        for (int c = 0; c < clusters; c++)
            if (edgeCode[start + c] == k) attained++;
        if (attained > RescanLimit)
        {
            edge.AsSpan(start, clusters).Fill(float.PositiveInfinity);
            edgeCode.AsSpan(start, clusters).Fill(-1);
            foreach (int i in members[b]) Join(distances, b, i);
            return;
        }
        for (int c = 0; c < clusters && attained > 0; c++)
        {
            if (edgeCode[start + c] != k) continue;
            attained--;
            float best = float.PositiveInfinity;
            int bestCode = -1;
            foreach (int i in members[b])
            {
                float delta = distances[i * clusters + c] - distances[i * clusters + b];
                if (delta < best)
                {
                    best = delta;
                    bestCode = i;
                }
            }
            edge[start + c] = best;
            edgeCode[start + c] = bestCode;
        }
    }

    /// <summary>Above this many attained columns a leaving code triggers a row rebuild instead of column rescans.</summary>
    const int RescanLimit = 16;

    /// <summary>Moves the code of u that attains W[u, v] to v.</summary>
    void Move(float[] distances, int[] assignment, int u, int v)
    {
        int moved = edgeCode[u * Stride + v];
        var list = members[u];
        int at = position[moved], last = list[^1];
        list[at] = last;
        position[last] = at;
        list.RemoveAt(list.Count - 1);
        Leave(distances, u, moved);

        position[moved] = members[v].Count;
        members[v].Add(moved);
        Join(distances, v, moved);
        assignment[moved] = v;
        Moves++;
    }

    /// <summary>
    /// Dijkstra from every over-full cluster (distance 0) over reduced costs max(0, W[u,v] + p[v] − p[u]) until the
    /// first under-full cluster is settled; then lowers every price by min(distance, distance to that sink), which
    /// keeps every reduced cost ≥ 0 and makes the path's edges tight. False when no cluster is over-full.
    /// </summary>
    bool ShortestPath(out int sink)
    {
        sink = -1;
        bool any = false;
        Array.Fill(distance, float.PositiveInfinity);
        Array.Clear(unsettled);
        for (int v = 0; v < clusters; v++)
        {
            bool over = members[v].Count > capacity;
            any |= over;
            if (over) distance[v] = 0;
            unsettled[v] = 1;
            previous[v] = -1;
        }
        if (!any) return false;

        var zero = Vector<float>.Zero;
        while (true)
        {
            int u = ClosestUnsettled();
            unsettled[u] = 0;
            if (members[u].Count < capacity)
            {
                sink = u;
                break;
            }
            var row = edge.AsSpan(u * Stride, Stride);
            var from = new Vector<float>(distance[u]);
            var priceU = new Vector<float>(priceSingle[u]);
            var uIndex = new Vector<int>(u);
            for (int v = 0; v < Stride; v += Width)
            {
                var reduced = Vector.Max(zero, new Vector<float>(row[v..]) + new Vector<float>(priceSingle, v) - priceU);
                var candidate = from + reduced;
                var current = new Vector<float>(distance, v);
                var better = Vector.LessThan(candidate, current) & Vector.GreaterThan(new Vector<float>(unsettled, v), zero);
                Vector.ConditionalSelect(better, candidate, current).CopyTo(distance, v);
                Vector.ConditionalSelect(better, uIndex, new Vector<int>(previous, v)).CopyTo(previous, v);
            }
        }
        double reach = distance[sink];
        for (int v = 0; v < clusters; v++) price[v] -= unsettled[v] == 0 ? distance[v] : reach;
        SyncPrices();
        return true;
    }

    /// <summary>The unsettled cluster with the smallest distance (the lowest index on ties; SIMD over clusters).</summary>
    int ClosestUnsettled()
    {
        var infinity = new Vector<float>(float.PositiveInfinity);
        var zero = Vector<float>.Zero;
        var minimum = infinity;
        for (int v = 0; v < Stride; v += Width)
        {
            var open = Vector.GreaterThan(new Vector<float>(unsettled, v), zero);
            minimum = Vector.Min(minimum, Vector.ConditionalSelect(open, new Vector<float>(distance, v), infinity));
        }
        float best = float.PositiveInfinity;
        for (int lane = 0; lane < Width; lane++) best = Math.Min(best, minimum[lane]);
        for (int v = 0; v < clusters; v++)
            if (unsettled[v] != 0 && distance[v] == best) return v;
        for (int v = 0; v < clusters; v++)
            if (unsettled[v] != 0) return v;
        throw new InvalidOperationException("Every cluster is settled but no under-full cluster was reached.");
    }
}
