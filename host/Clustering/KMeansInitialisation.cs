namespace IAR.Host.Clustering;

/// <summary>How k-means picks its initial centres (always from a seeded generator).</summary>
public enum KMeansInitialisation
{
    /// <summary>k-means++ (D² sampling): spread-out centres, fewer iterations, lower error. The default.</summary>
    PlusPlus,

    /// <summary>n distinct codes chosen uniformly (the official <c>vectors[randperm(V)[:n]]</c>).</summary>
    Random,
}
