namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>
/// The sizes of LlamaGen's VQ tokenizer: the official <c>ModelArgs</c> fields plus the Encoder/Decoder sizes that
/// <c>VQModel</c> hard-codes (<c>ch</c>, <c>num_res_blocks</c>, the GroupNorm group count). Image channels come
/// from the data.
/// </summary>
public sealed record VqOptions
{
    public int CodebookSize { get; init; } = 16384;

    public int CodebookEmbedDim { get; init; } = 8;

    /// <summary>Quantise on the unit sphere: both the encoder output and the codebook rows are L2-normalised.</summary>
    public bool CodebookL2Norm { get; init; } = true;

    /// <summary>Keep the official <c>quantize.codebook_used</c> ring of the last 65536 chosen indices (checkpoints carry it).</summary>
    public bool CodebookShowUsage { get; init; } = true;

    /// <summary>β: weight of the commitment loss.</summary>
    public double CommitLossBeta { get; init; } = 0.25;

    /// <summary>Weight of the codebook entropy loss; 0 leaves it out.</summary>
    public double EntropyLossRatio { get; init; }

    /// <summary>Softmax temperature of the entropy loss over −distances (official 0.01).</summary>
    public double EntropyTemperature { get; init; } = 0.01;

    /// <summary>
    /// Dead-code restart (not in the official code; 0 = off): a code not chosen in this many consecutive training
    /// forwards is re-seeded, before the next forward quantises, from that batch's worst-quantised encoder outputs.
    /// Keeps the whole codebook in use; checkpoints then carry <c>quantize.code_idle</c>.
    /// </summary>
    public int RestartDeadCodesAfter { get; init; }

    public IReadOnlyList<int> EncoderChMult { get; init; } = [1, 1, 2, 2, 4];

    public IReadOnlyList<int> DecoderChMult { get; init; } = [1, 1, 2, 2, 4];

    public int ZChannels { get; init; } = 256;

    public double DropoutP { get; init; }

    /// <summary>Base channel count of encoder and decoder (official VQModel hard-codes 128).</summary>
    public int Ch { get; init; } = 128;

    /// <summary>Residual blocks per encoder level (the decoder has one more; official VQModel hard-codes 2).</summary>
    public int NumResBlocks { get; init; } = 2;

    /// <summary>Groups of every GroupNorm (official hard-codes 32); every channel count must be a multiple.</summary>
    public int NormGroups { get; init; } = 32;

    /// <summary>Strided 3×3 conv to downsample and a 3×3 conv after nearest upsampling; false uses average pooling and no conv.</summary>
    public bool ResampWithConv { get; init; } = true;

    /// <summary>Weight of the L2 reconstruction term in the training loss (official 1).</summary>
    public double ReconstructionWeight { get; init; } = 1.0;
}
