using IAR.Abstractions;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>Everything that fixes the shapes of a <see cref="Transformer"/>: the options plus what the data decides.</summary>
/// <param name="Options">The preset's options after overrides.</param>
/// <param name="VocabSize">V, the tokenizer's codebook size.</param>
/// <param name="NumClasses">Number of class labels.</param>
/// <param name="Grid">The token grid (the sequence is its raster order after one class token).</param>
public sealed record GptConfig(GptOptions Options, int VocabSize, int NumClasses, GridSize Grid)
{
    /// <summary>Class-conditional LlamaGen uses exactly one class token (official <c>cls_token_num</c> for c2i).</summary>
    public const int ClassTokens = 1;

    public int HeadDim => Options.Dim / Options.NHead;

    public int KvHeads => Options.NKvHead ?? Options.NHead;

    /// <summary>Tokens of one image.</summary>
    public int SequenceLength => Grid.Count;

    /// <summary>The official SwiGLU width: find_multiple(int(ffn_dim_multiplier · int(2·4·dim/3)), multiple_of).</summary>
    public int FfnHiddenDim
    {
        get
        {
            int hidden = (int)(2.0 * (4 * Options.Dim) / 3);
            if (Options.FfnDimMultiplier is { } m) hidden = (int)(m * hidden);
            int k = Options.MultipleOf;
            return hidden % k == 0 ? hidden : hidden + k - hidden % k;
        }
    }

    /// <summary>Whether the class embedding has the null row used for classifier-free guidance.</summary>
    public bool HasNullClass => Options.ClassDropoutProb > 0;

    /// <summary>Throws <see cref="ConfigurationException"/> naming the first option that cannot build a model.</summary>
    public void Validate(string context)
    {
        var o = Options;
        Require(o.Dim > 0, $"{context}.dim = {o.Dim} is invalid; a positive width is accepted.");
        Require(o.NLayer > 0, $"{context}.n_layer = {o.NLayer} is invalid; a positive count is accepted.");
        Require(o.NHead > 0 && o.Dim % o.NHead == 0, $"{context}.n_head = {o.NHead} is invalid; it must be positive and divide dim = {o.Dim}.");
        Require(HeadDim % 4 == 0,
            $"{context}: head_dim = dim / n_head = {HeadDim} is invalid; 2-D rotary embedding needs a multiple of 4.");
        Require(KvHeads > 0 && o.NHead % KvHeads == 0,
            $"{context}.n_kv_head = {o.NKvHead} is invalid; it must be positive and divide n_head = {o.NHead}.");
        Require(o.MultipleOf > 0, $"{context}.multiple_of = {o.MultipleOf} is invalid; a positive integer is accepted.");
        Require(o.FfnDimMultiplier is null or > 0, $"{context}.ffn_dim_multiplier = {o.FfnDimMultiplier} is invalid; null or a positive number is accepted.");
        Require(o.RopeBase > 1, $"{context}.rope_base = {o.RopeBase} is invalid; a number > 1 is accepted.");
        Require(o.NormEps > 0, $"{context}.norm_eps = {o.NormEps} is invalid; a positive number is accepted.");
        Require(o.InitializerRange >= 0 && o.OutputInitStd >= 0,
            $"{context}: initializer_range = {o.InitializerRange} and output_init_std = {o.OutputInitStd} must be ≥ 0.");
        foreach (var (key, p) in new[]
                 {
                     ("token_dropout_p", o.TokenDropoutP), ("attn_dropout_p", o.AttnDropoutP), ("resid_dropout_p", o.ResidDropoutP),
                     ("ffn_dropout_p", o.FfnDropoutP), ("drop_path_rate", o.DropPathRate), ("class_dropout_prob", o.ClassDropoutProb),
                 })
            Require(p >= 0 && p < 1, $"{context}.{key} = {p} is invalid; a probability in [0, 1) is accepted.");
        Require(VocabSize > 0, $"The tokenizer's vocabulary size {VocabSize} is invalid; it must be positive.");
        Require(NumClasses > 0, $"The number of classes {NumClasses} is invalid; a class-conditional GPT needs at least one.");
    }

    static void Require(bool ok, string message)
    {
        if (!ok) throw new ConfigurationException(message);
    }
}
