package dev.qload.models.gptoss;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.module.Module;
import dev.qload.core.nn.FusedExperts;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.Tensor;
import dev.qload.models.CachedSelfAttention;
import dev.qload.models.CausalLanguageModel;
import dev.qload.models.ModelWeights;
import java.util.List;
import dev.qload.models.llama.LlamaRotaryEmbedding;

/**
 * Runs a loaded {@link GptOssForCausalLM} on the CPU with a key/value cache, following
 * transformers' {@code modeling_gpt_oss.py}: pre-norm layers; attention with q/k/v/o biases,
 * rotate-half YaRN RoPE (cos and sin times {@code attention_scaling}), grouped-query heads, the
 * layer's sliding window and one sink logit per head in the softmax; then the mixture of experts
 * ({@link MixtureOfExperts}). All arithmetic is F32; weights are read in place. Projections and
 * experts are whatever modules sit at their paths, so quantized ones (MXFP4 experts) run through
 * {@link LinearForward} / {@link FusedExperts} without being dequantized.
 *
 * <p>Not thread-safe: one instance is one conversation (one cache).
 */
public final class GptOssInference implements CausalLanguageModel {
    private final Kernels k;
    private final GptOssConfig c;
    private final int maxPositions;
    private final Tensor embedding;
    private final Layer[] layers;
    private final float[] finalNorm;
    private final LinearForward lmHead;
    private final float[] invFreq;
    private final float attentionScaling;
    private final CachedSelfAttention attention;
    private int position;

    private record Layer(float[] inputNorm, float[] postNorm, CachedSelfAttention.Projections attention, float[] sinks, int window,
                         MixtureOfExperts moe) {}

    public GptOssInference(GptOssForCausalLM model, Kernels kernels, int maxPositions) {
        this.k = kernels;
        this.c = model.config();
        this.maxPositions = maxPositions;
        Module m = model.children().get("model");
        this.embedding = ModelWeights.embedding(model);
        List<Module> list = ModelWeights.decoderLayers(model);
        this.layers = new Layer[list.size()];
        for (int i = 0; i < layers.length; i++) {
            Module layer = list.get(i);
            GptOssAttention selfAttention = (GptOssAttention) layer.find("self_attn");
            MixtureOfExperts moe = new MixtureOfExperts(ModelWeights.linear(layer, "mlp.router"), experts(layer, "mlp.experts"), c.expertsPerToken(),
                    c.swigluLimit());
            layers[i] = new Layer(ModelWeights.norm(layer.find("input_layernorm")), ModelWeights.norm(layer.find("post_attention_layernorm")),
                    new CachedSelfAttention.Projections(ModelWeights.linear(layer, "self_attn.q_proj"), ModelWeights.linear(layer, "self_attn.k_proj"),
                            ModelWeights.linear(layer, "self_attn.v_proj"), ModelWeights.linear(layer, "self_attn.o_proj")),
                    selfAttention.sinks().toFloatArray(), selfAttention.slidingWindow(), moe);
        }
        this.finalNorm = ModelWeights.norm(m.find("norm"));
        this.lmHead = ModelWeights.linear(model, "lm_head");
        LlamaRotaryEmbedding rotary = (LlamaRotaryEmbedding) m.find("rotary_emb");
        this.invFreq = rotary.invFreq().toFloatArray();
        this.attentionScaling = rotary.attentionScaling();
        this.attention = new CachedSelfAttention(layers.length, c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), maxPositions);
    }

    private static FusedExperts experts(Module parent, String path) {
        Module m = parent.find(path);
        if (m instanceof FusedExperts f) return f;
        throw ModelWeights.cannotRun(path, m, "FusedExperts");
    }

    public GptOssConfig config() {
        return c;
    }

    @Override
    public int vocabSize() {
        return c.vocabSize();
    }

    @Override
    public float[] forward(int[] tokens) {
        position = 0;
        return append(tokens, true);
    }

    /** Router logits of layer {@code layer} for the last call's tokens, [tokens × experts]; for tests against the reference. */
    public float[] lastRouterLogits(int layer) {
        return layers[layer].moe().lastRouterLogits();
    }

    @Override
    public float[] append(int[] tokens, boolean allLogits) {
        int n = tokens.length;
        if (n == 0) throw ModelWeights.invalidInput("no tokens");
        if (position + n > maxPositions) throw ModelWeights.invalidInput("a sequence of " + (position + n) + " tokens exceeds the cache of " + maxPositions);
        int hidden = c.hiddenSize();
        float eps = (float) c.rmsNormEps();
        float[] h = ModelWeights.embed(k, embedding, tokens, hidden, c.vocabSize());
        float[] x = new float[n * hidden], o = new float[n * hidden];
        float[][][] cosSin = CachedSelfAttention.rotary(invFreq, attentionScaling, position, n);
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            for (int t = 0; t < n; t++) k.rmsNorm(h, t * hidden, hidden, layer.inputNorm(), eps, x, t * hidden);
            attention.forward(k, l, layer.attention(), x, n, position, cosSin, layer.window(), layer.sinks(), o);
            k.add(o, 0, h, 0, n * hidden);
            for (int t = 0; t < n; t++) k.rmsNorm(h, t * hidden, hidden, layer.postNorm(), eps, x, t * hidden);
            layer.moe().forward(k, x, n, o);
            k.add(o, 0, h, 0, n * hidden);
        }
        position += n;
        int first = allLogits ? 0 : n - 1, rows = n - first;
        for (int t = first; t < n; t++) k.rmsNorm(h, t * hidden, hidden, finalNorm, eps, x, (t - first) * hidden);
        float[] logits = new float[rows * c.vocabSize()];
        lmHead.forward(k, x, rows, logits);
        return logits;
    }
}
