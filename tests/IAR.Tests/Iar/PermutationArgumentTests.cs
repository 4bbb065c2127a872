using IAR.Host.Iar;
using IAR.Tests.Support;
using TorchSharp;

namespace IAR.Tests.Iar;

/// <summary>
/// The permutation's own argument checks, each with the input that shows it (bench/mutation/iar-core-survivors.md):
/// a duplicate whose first occurrence is at index 0, a 2-D tensor (which flattening would accept), tables on the
/// device asked for, and a cluster layout of another vocabulary refused before anything is written.
/// </summary>
public class PermutationArgumentTests
{
    [Fact]
    public void A_duplicate_first_seen_at_index_0_is_refused_naming_both_places()
    {
        var e = Assert.Throws<ArgumentException>(() => CodebookPermutation.FromNewToOld([1, 1, 2]));
        Assert.StartsWith("new_to_old is not a permutation: 1 appears twice (at 0 and 1).", e.Message);
    }

    [Fact]
    public void A_two_dimensional_tensor_is_refused_naming_its_shape()
    {
        using var square = torch.tensor(new long[] { 0, 1, 2, 3 }, [2, 2]);
        var e = Assert.Throws<ArgumentException>(() => CodebookPermutation.FromTensor(square));
        Assert.Equal("new_to_old must be 1-D, not [2, 2].", e.Message);
    }

    [Fact]
    public void Tables_are_made_on_the_device_asked_for()
    {
        var permutation = CodebookPermutation.FromNewToOld([2, 0, 1]);
        using var newToOld = permutation.NewToOldTensor(torch.META);
        using var oldToNew = permutation.OldToNewTensor(torch.META);
        Assert.Equal((DeviceType.META, DeviceType.META), (newToOld.device_type, oldToNew.device_type));
        Assert.Equal("permutation of 3 codes (" + permutation.Hash + ")", permutation.ToString());
    }

    [Fact]
    public void Saving_with_a_layout_of_another_vocabulary_is_refused_and_writes_nothing()
    {
        using var dir = new TempDir();
        var path = dir.File("p.safetensors");
        var e = Assert.Throws<ArgumentException>(() => CodebookPermutation.FromNewToOld([0, 1, 2, 3]).Save(path, ClusterLayout.Uniform(8, 2)));
        Assert.StartsWith("The cluster layout covers 8 codes, the permutation 4.", e.Message);
        Assert.False(File.Exists(path));
    }
}
