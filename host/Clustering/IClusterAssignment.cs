namespace IAR.Host.Clustering;

/// <summary>The assignment step of a Lloyd iteration.</summary>
internal interface IClusterAssignment
{
    /// <summary>Fills <paramref name="assignment"/> [V] from squared distances [V·n] (row-major, code-major).</summary>
    /// <param name="assignment">Holds the previous iteration's assignment (or −1s on the first call) on entry.</param>
    void Assign(float[] distances, int[] assignment);
}
