using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.TinyGpt;

/// <summary>
/// A next-token generator: position 0 sees the class token and predicts token 0, position l sees tokens &lt; l.
/// Vocabulary-indexed tensors (declared below, so IAR can rearrange a pretrained copy): the token embedding rows,
/// the output head rows and the output bias. The class table has one extra row, the null class of classifier-free
/// guidance (labels dropped in training are replaced by it).
/// </summary>
public sealed class TinyGptGenerator : IGenerator
{
    readonly Network network;

    public TinyGptGenerator(TinyGptOptions options, GeneratorRequest request)
    {
        var t = request.Tokenizer.Info;
        if (request.NumClasses < 1) throw new ConfigurationException($"TinyGpt needs at least one class; the data has {request.NumClasses}.");
        Info = new GeneratorInfo("TinyGpt", request.Preset, GeneratorKind.NextToken, t.VocabularySize, request.NumClasses, t.Layout,
            SupportsGuidance: true);
        network = new Network(options, t.VocabularySize, request.NumClasses, t.Layout.SequenceLength);
    }

    public GeneratorInfo Info { get; }

    public nn.Module Module => network;

    public IReadOnlyList<VocabularyParameter> VocabularyParameters =>
    [
        new("tok_embeddings.weight", network.tok_embeddings.weight!, 0),
        new("output.weight", network.output.weight!, 0),
        new("output.bias", network.output.bias!, 0),
    ];

    public GeneratorOutput Forward(TokenBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        var labels = batch.DropLabels is null ? batch.Labels : torch.where(batch.DropLabels, Info.NumClasses, batch.Labels);
        var input = batch.Tokens[.., ..^1];                                                   // [B, L − 1]
        var logits = network.forward(labels, input);                                          // [B, L, V]
        return new GeneratorOutput(logits.MoveToOuterDisposeScope(), batch.Tokens);
    }

    public Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator)
    {
        options.Validate();
        if (labels.numel() > 0 && (labels.min().item<long>() < 0 || labels.max().item<long>() >= Info.NumClasses))
            throw new ArgumentException($"Class labels must be in [0, {Info.NumClasses}).");
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        long b = labels.shape[0];
        bool guided = options.CfgScale != 1.0;
        // Guidance runs the conditional and the null-class rows as one batch of 2B.
        var classes = guided ? torch.cat([labels, torch.full(b, Info.NumClasses, ScalarType.Int64, labels.device)]) : labels;
        var tokens = torch.empty(b, 0, ScalarType.Int64, labels.device);
        for (int l = 0; l < Info.Layout.SequenceLength; l++)
        {
            var prefix = guided ? torch.cat([tokens, tokens]) : tokens;
            var logits = network.forward(classes, prefix)[.., -1];                            // [B or 2B, V]
            if (guided) logits = logits[..(int)b] * options.CfgScale + logits[(int)b..] * (1 - options.CfgScale);
            var next = Sample(logits / options.Temperature, options, generator);               // [B, 1]
            tokens = torch.cat([tokens, next], 1);
        }
        return tokens.MoveToOuterDisposeScope();                                               // [B, L]
    }

    static Tensor Sample(Tensor logits, SamplingOptions options, torch.Generator? generator)
    {
        if (options.TopK > 0)
        {
            var kth = logits.topk(Math.Min(options.TopK, (int)logits.shape[^1]), -1).values[.., ^1..];
            logits = logits.masked_fill(logits < kth, double.NegativeInfinity);
        }
        if (options.TopP < 1)
        {
            var (sorted, order) = logits.sort(-1, descending: true);
            var mass = sorted.softmax(-1).cumsum(-1);
            var drop = (mass - sorted.softmax(-1)) > options.TopP;                            // keep the first past TopP
            logits = logits.scatter(-1, order, sorted.masked_fill(drop, double.NegativeInfinity));
        }
        return torch.multinomial(logits.softmax(-1), 1, generator: generator);
    }

    /// <summary>Official-style key names: tok_embeddings, cls_embedding, pos_embedding, layers.{i}, norm, output.</summary>
    sealed class Network : nn.Module
    {
        public readonly Embedding tok_embeddings;
        public readonly Embedding cls_embedding;
        public readonly Parameter pos_embedding;
        public readonly ModuleList<Block> layers;
        public readonly LayerNorm norm;
        public readonly Linear output;

        public Network(TinyGptOptions o, int vocabularySize, int numClasses, int length) : base("TinyGpt")
        {
            tok_embeddings = nn.Embedding(vocabularySize, o.Dim);
            cls_embedding = nn.Embedding(numClasses + 1, o.Dim);                                 // + the null class
            pos_embedding = nn.Parameter(torch.randn(length, o.Dim) * 0.02);
            layers = nn.ModuleList(Enumerable.Range(0, o.NLayer).Select(_ => new Block(o.Dim, o.NHead)).ToArray());
            norm = nn.LayerNorm(o.Dim);
            output = nn.Linear(o.Dim, vocabularySize);
            RegisterComponents();
        }

        /// <summary>int64 [B] classes, int64 [B, l] tokens → logits [B, l + 1, V].</summary>
        public Tensor forward(Tensor classes, Tensor tokens)
        {
            var x = torch.cat([cls_embedding.forward(classes).unsqueeze(1), tok_embeddings.forward(tokens)], 1);   // [B, l + 1, D]
            x = x + pos_embedding[..(int)x.shape[1]];
            foreach (var block in layers) x = block.forward(x);
            return output.forward(norm.forward(x));
        }
    }

    sealed class Block : nn.Module
    {
        public readonly LayerNorm attention_norm;
        public readonly Linear qkv;
        public readonly Linear proj;
        public readonly LayerNorm ffn_norm;
        public readonly Linear fc1;
        public readonly Linear fc2;
        readonly int heads;

        public Block(int dim, int heads) : base("Block")
        {
            this.heads = heads;
            attention_norm = nn.LayerNorm(dim);
            qkv = nn.Linear(dim, 3 * dim);
            proj = nn.Linear(dim, dim);
            ffn_norm = nn.LayerNorm(dim);
            fc1 = nn.Linear(dim, 4 * dim);
            fc2 = nn.Linear(4 * dim, dim);
            RegisterComponents();
        }

        public Tensor forward(Tensor x)
        {
            long b = x.shape[0], l = x.shape[1], d = x.shape[2];
            var qkvs = qkv.forward(attention_norm.forward(x)).view(b, l, 3, heads, d / heads).permute(2, 0, 3, 1, 4);  // [3, B, H, l, hd]
            var scores = torch.matmul(qkvs[0], qkvs[1].transpose(-2, -1)) / Math.Sqrt(d / heads);                    // [B, H, l, l]
            var future = torch.ones(l, l, ScalarType.Bool, x.device).triu(1);
            var attended = torch.matmul(scores.masked_fill(future, double.NegativeInfinity).softmax(-1), qkvs[2]);   // [B, H, l, hd]
            x = x + proj.forward(attended.transpose(1, 2).reshape(b, l, d));
            return x + fc2.forward(nn.functional.gelu(fc1.forward(ffn_norm.forward(x))));
        }
    }
}
