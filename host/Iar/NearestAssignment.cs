namespace IAR.Host.Iar;

/// <summary>
/// Plain k-means: every code to its nearest centre. A cluster left empty takes the code farthest from its own centre
/// (from a cluster that can spare one), so that every cluster keeps at least one member.
/// </summary>
internal sealed class NearestAssignment(int count, int clusters) : IClusterAssignment
{
    public void Assign(float[] distances, int[] assignment)
    {
        var sizes = new int[clusters];
        for (int i = 0; i < count; i++)
        {
            var row = distances.AsSpan(i * clusters, clusters);
            int best = 0;
            for (int j = 1; j < clusters; j++)
                if (row[j] < row[best]) best = j;
            assignment[i] = best;
            sizes[best]++;
        }
        for (int empty = 0; empty < clusters; empty++)
        {
            if (sizes[empty] > 0) continue;
            int farthest = -1;
            float worst = -1;
            for (int i = 0; i < count; i++)
            {
                float d = distances[i * clusters + assignment[i]];
                if (sizes[assignment[i]] > 1 && d > worst)
                {
                    worst = d;
                    farthest = i;
                }
            }
            sizes[assignment[farthest]]--;
            assignment[farthest] = empty;
            sizes[empty] = 1;
        }
    }
}
