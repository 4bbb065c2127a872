namespace IAR.Host.Iar;

/// <summary>
/// The official balanced assignment: codes in ascending order of the distance to their nearest centre (ties by
/// index), each taking the nearest cluster (ties by cluster index) that has fewer than m members.
/// </summary>
internal sealed class GreedyAssignment(int count, int clusters, int capacity) : IClusterAssignment
{
    readonly float[] nearestDistance = new float[count];
    readonly int[] nearestCluster = new int[count];
    readonly int[] sizes = new int[clusters];

    public void Assign(float[] distances, int[] assignment)
    {
        for (int i = 0; i < count; i++)
        {
            var row = distances.AsSpan(i * clusters, clusters);
            int best = 0;
            for (int j = 1; j < clusters; j++)
                if (row[j] < row[best]) best = j;
            nearestDistance[i] = row[best];
            nearestCluster[i] = best;
        }
        // Keys and index together: ties keep index order because the sort is on (distance, index) pairs.
        var keys = new (float Distance, int Index)[count];
        for (int i = 0; i < count; i++) keys[i] = (nearestDistance[i], i);
        Array.Sort(keys);
        Array.Clear(sizes);
        foreach (var (_, i) in keys)
        {
            int best = nearestCluster[i];
            if (sizes[best] >= capacity)
            {
                var row = distances.AsSpan(i * clusters, clusters);
                best = -1;
                for (int j = 0; j < clusters; j++)
                    if (sizes[j] < capacity && (best < 0 || row[j] < row[best])) best = j;
            }
            assignment[i] = best;
            sizes[best]++;
        }
    }
}
