package dev.qload.models.llama;

import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.module.Module;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.Tensor;
import dev.qload.models.CachedSelfAttention;
import dev.qload.models.CausalLanguageModel;
import dev.qload.models.ModelWeights;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a loaded {@link LlamaForCausalLM} on the CPU with a key/value cache, following
 * transformers' {@code modeling_llama.py} (and its Mistral and Qwen2 variants) step by step:
 * pre-norm decoder layers, q/k/v projections (with bias where the config has it), rotate-half RoPE
 * with {@code attention_scaling}, grouped-query causal attention with the layer's sliding window,
 * SwiGLU MLP, final RMSNorm and {@code lm_head}. All arithmetic is F32; weights are read in place in
 * their stored dtype. Linear layers are whatever module sits at their path, so quantized
 * replacements run through their own {@link LinearForward}.
 *
 * <p>Not thread-safe: one instance is one conversation (one cache).
 */
public final class LlamaInference implements CausalLanguageModel {
    private final Kernels k;
    private final LlamaConfig c;
    private final int maxPositions;
    private final Tensor embedding;
    private final Layer[] layers;
    private final float[] finalNorm;
    private final LinearForward lmHead;
    private final float[] invFreq;
    private final float attentionScaling;
    private final CachedSelfAttention attention;
    private int position;

    private record Layer(float[] inputNorm, float[] postNorm, CachedSelfAttention.Projections attention,
                         LinearForward gate, LinearForward up, LinearForward down, int window) {}

    public LlamaInference(LlamaForCausalLM model, Kernels kernels, int maxPositions) {
        this.k = kernels;
        this.c = model.config();
        this.maxPositions = maxPositions;
        Module m = model.children().get("model");
        this.embedding = ModelWeights.embedding(model);
        List<Module> list = ModelWeights.decoderLayers(model);
        this.layers = new Layer[list.size()];
        for (int i = 0; i < layers.length; i++) {
            Module layer = list.get(i);
            layers[i] = new Layer(norm(layer.find("input_layernorm")), norm(layer.find("post_attention_layernorm")),
                    new CachedSelfAttention.Projections(linear(layer, "self_attn.q_proj"), linear(layer, "self_attn.k_proj"),
                            linear(layer, "self_attn.v_proj"), linear(layer, "self_attn.o_proj")),
                    linear(layer, "mlp.gate_proj"), linear(layer, "mlp.up_proj"),
                    linear(layer, "mlp.down_proj"), ((LlamaAttention) layer.find("self_attn")).slidingWindow());
        }
        this.finalNorm = norm(m.find("norm"));
        this.lmHead = linear(model, "lm_head");
        LlamaRotaryEmbedding rotary = (LlamaRotaryEmbedding) m.find("rotary_emb");
        this.invFreq = rotary.invFreq().toFloatArray();
        this.attentionScaling = rotary.attentionScaling();
        this.attention = new CachedSelfAttention(layers.length, c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), maxPositions);
    }

    private static float[] norm(Module module) {
        return ModelWeights.norm(module);
    }

    private static LinearForward linear(Module parent, String path) {
        return ModelWeights.linear(parent, path);
    }

    public LlamaConfig config() {
        return c;
    }

    @Override
    public int vocabSize() {
        return c.vocabSize();
    }

    /** Positions consumed so far. */
    public int position() {
        return position;
    }

    /** Forgets the cache: the next call starts at position 0. */
    public void reset() {
        position = 0;
    }

    /** Logits for every position of {@code tokens} from a fresh cache: [tokens × vocab]. */
    @Override
    public float[] forward(int[] tokens) {
        reset();
        return append(tokens, true);
    }

    /**
     * Feeds {@code tokens} at the next positions and returns their logits: all of them
     * ([tokens × vocab]) or only the last position's ([vocab]).
     */
    @Override
    public float[] append(int[] tokens, boolean allLogits) {
        int n = tokens.length;
        if (n == 0) throw invalidInput("no tokens");
        if (position + n > maxPositions) throw invalidInput("a sequence of " + (position + n) + " tokens exceeds the cache of " + maxPositions);
        int hidden = c.hiddenSize(), inter = c.intermediateSize();
        float[] h = ModelWeights.embed(k, embedding, tokens, hidden, c.vocabSize());
        float[] x = new float[n * hidden], o = new float[n * hidden], g = new float[n * inter], u = new float[n * inter];
        float[][][] cosSin = CachedSelfAttention.rotary(invFreq, attentionScaling, position, n);
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            for (int t = 0; t < n; t++) k.rmsNorm(h, t * hidden, hidden, layer.inputNorm(), (float) c.rmsNormEps(), x, t * hidden);
            attention.forward(k, l, layer.attention(), x, n, position, cosSin, layer.window(), null, o);
            k.add(o, 0, h, 0, n * hidden);
            for (int t = 0; t < n; t++) k.rmsNorm(h, t * hidden, hidden, layer.postNorm(), (float) c.rmsNormEps(), x, t * hidden);
            layer.gate().forward(k, x, n, g);
            layer.up().forward(k, x, n, u);
            k.siluMul(g, u, 0, n * inter);
            layer.down().forward(k, g, n, o);
            k.add(o, 0, h, 0, n * hidden);
        }
        position += n;
        int vocab = c.vocabSize();
        if (allLogits) {
            for (int t = 0; t < n; t++) k.rmsNorm(h, t * hidden, hidden, finalNorm, (float) c.rmsNormEps(), x, t * hidden);
            float[] logits = new float[n * vocab];
            lmHead.forward(k, x, n, logits);
            return logits;
        }
        float[] last = new float[hidden];
        k.rmsNorm(h, (n - 1) * hidden, hidden, finalNorm, (float) c.rmsNormEps(), last, 0);
        float[] logits = new float[vocab];
        lmHead.forward(k, last, 1, logits);
        return logits;
    }

    /** Greedy decoding: the prompt, then up to {@code maxNewTokens} argmax tokens (stopping early at {@code stopToken} if ≥ 0). */
    public int[] generateGreedy(int[] prompt, int maxNewTokens, int stopToken) {
        reset();
        int[] out = new int[maxNewTokens];
        int produced = 0;
        float[] logits = append(prompt, false);
        while (produced < maxNewTokens) {
            int next = argmax(logits, 0, logits.length);
            out[produced++] = next;
            if (next == stopToken || position >= maxPositions) break;
            logits = append(new int[] {next}, false);
        }
        return Arrays.copyOf(out, produced);
    }

    private static QLoadException invalidInput(String message) {
        return ModelWeights.invalidInput(message);
    }

    public static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (v[off + i] > v[off + best]) best = i;
        return best;
    }
}
