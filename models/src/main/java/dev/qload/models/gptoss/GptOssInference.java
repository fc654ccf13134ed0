package dev.qload.models.gptoss;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Attention;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.module.Module;
import dev.qload.core.nn.FusedExperts;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.nn.ModuleList;
import dev.qload.core.nn.RmsNorm;
import dev.qload.core.tensor.Tensor;
import dev.qload.models.CausalLanguageModel;
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
    private final float scale;
    private final float[][] keyCache, valueCache;
    private int position;

    private record Layer(float[] inputNorm, float[] postNorm, LinearForward q, LinearForward kProj, LinearForward v, LinearForward o,
                         float[] sinks, int window, MixtureOfExperts moe) {}

    public GptOssInference(GptOssForCausalLM model, Kernels kernels, int maxPositions) {
        this.k = kernels;
        this.c = model.config();
        this.maxPositions = maxPositions;
        Module m = model.children().get("model");
        this.embedding = m.find("embed_tokens").slot("weight").get();
        @SuppressWarnings("unchecked")
        ModuleList<Module> list = (ModuleList<Module>) m.children().get("layers");
        this.layers = new Layer[list.size()];
        for (int i = 0; i < layers.length; i++) {
            Module layer = list.get(i);
            GptOssAttention attention = (GptOssAttention) layer.find("self_attn");
            MixtureOfExperts moe = new MixtureOfExperts(linear(layer, "mlp.router"), experts(layer, "mlp.experts"), c.expertsPerToken(),
                    c.swigluLimit());
            layers[i] = new Layer(norm(layer.find("input_layernorm")), norm(layer.find("post_attention_layernorm")),
                    linear(layer, "self_attn.q_proj"), linear(layer, "self_attn.k_proj"), linear(layer, "self_attn.v_proj"),
                    linear(layer, "self_attn.o_proj"), attention.sinks().toFloatArray(), attention.slidingWindow(), moe);
        }
        this.finalNorm = norm(m.find("norm"));
        this.lmHead = linear(model, "lm_head");
        LlamaRotaryEmbedding rotary = (LlamaRotaryEmbedding) m.find("rotary_emb");
        this.invFreq = rotary.invFreq().toFloatArray();
        this.attentionScaling = rotary.attentionScaling();
        this.scale = (float) Math.pow(c.headDim(), -0.5); // GptOssAttention.scaling = head_dim ** -0.5
        int kvWidth = c.numKeyValueHeads() * c.headDim();
        this.keyCache = new float[layers.length][Math.multiplyExact(maxPositions, kvWidth)];
        this.valueCache = new float[layers.length][Math.multiplyExact(maxPositions, kvWidth)];
    }

    private static float[] norm(Module module) {
        return ((RmsNorm) module).weight().toFloatArray();
    }

    private static LinearForward linear(Module parent, String path) {
        Module m = parent.find(path);
        if (m instanceof LinearForward f) return f;
        throw cannotRun(path, m, "LinearForward");
    }

    private static FusedExperts experts(Module parent, String path) {
        Module m = parent.find(path);
        if (m instanceof FusedExperts f) return f;
        throw cannotRun(path, m, "FusedExperts");
    }

    private static QLoadException cannotRun(String path, Module m, String contract) {
        return new QLoadException(Problem.of(ErrorId.NOT_SUPPORTED, "module '" + path + "' (" + (m == null ? "missing" : m.typeName())
                + ") cannot run a forward pass: it does not implement " + contract + " (its quantizer lacks FORWARD; dequantize it first)"));
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
        if (n == 0) throw invalidInput("no tokens");
        if (position + n > maxPositions) throw invalidInput("a sequence of " + (position + n) + " tokens exceeds the cache of " + maxPositions);
        int hidden = c.hiddenSize(), hd = c.headDim(), heads = c.numAttentionHeads(), kvHeads = c.numKeyValueHeads();
        int qWidth = heads * hd, kvWidth = kvHeads * hd;
        float eps = (float) c.rmsNormEps();
        float[] h = embed(tokens);
        float[] x = new float[n * hidden], q = new float[n * qWidth], kv = new float[n * kvWidth], vv = new float[n * kvWidth];
        float[] attn = new float[n * qWidth], o = new float[n * hidden];
        float[][] cos = new float[n][invFreq.length], sin = new float[n][invFreq.length];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < invFreq.length; i++) {
                float angle = (position + t) * invFreq[i]; // inv_freq @ position_ids, in F32
                cos[t][i] = (float) Math.cos(angle) * attentionScaling;
                sin[t][i] = (float) Math.sin(angle) * attentionScaling;
            }
        }
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            for (int t = 0; t < n; t++) k.rmsNorm(h, t * hidden, hidden, layer.inputNorm(), eps, x, t * hidden);
            layer.q().forward(k, x, n, q);
            layer.kProj().forward(k, x, n, kv);
            layer.v().forward(k, x, n, vv);
            for (int t = 0; t < n; t++) {
                for (int hh = 0; hh < heads; hh++) k.rope(q, t * qWidth + hh * hd, hd, cos[t], sin[t]);
                for (int hh = 0; hh < kvHeads; hh++) k.rope(kv, t * kvWidth + hh * hd, hd, cos[t], sin[t]);
            }
            System.arraycopy(kv, 0, keyCache[l], position * kvWidth, n * kvWidth);
            System.arraycopy(vv, 0, valueCache[l], position * kvWidth, n * kvWidth);
            float[] keys = keyCache[l], values = valueCache[l];
            int start = position;
            Parallel.forRange(n, 4, (from, to) -> {
                float[] scores = new float[start + n + 1];
                for (int t = from; t < to; t++) {
                    Attention.attend(k, q, t * qWidth, keys, values, start + t, heads, kvHeads, hd, layer.window(), layer.sinks(), scale,
                            scores, attn, t * qWidth);
                }
            });
            layer.o().forward(k, attn, n, o);
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

    private float[] embed(int[] tokens) {
        int hidden = c.hiddenSize();
        float[] h = new float[tokens.length * hidden];
        for (int t = 0; t < tokens.length; t++) {
            int id = tokens[t];
            if (id < 0 || id >= c.vocabSize()) throw invalidInput("token id " + id + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            k.toFloat(embedding.data(), embedding.dtype(), (long) id * hidden, h, t * hidden, hidden);
        }
        return h;
    }

    private static QLoadException invalidInput(String message) {
        return new QLoadException(Problem.of(ErrorId.INVALID_INPUT, message));
    }
}
