package dev.qload.models;

import dev.qload.core.kernel.Attention;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.nn.LinearForward;

/**
 * The self-attention of every decoder layer of a model, with its key/value cache, as
 * transformers' Llama-family and GPT-OSS attention modules compute it: q/k/v projections (biases
 * inside the projections), rotate-half RoPE with {@code attention_scaling} folded into cos and sin,
 * grouped-query causal attention over the cache with the layer's sliding window and optional sink
 * logits ({@link Attention}), then the output projection. Scale {@code head_dim ** -0.5}.
 */
public final class CachedSelfAttention {
    /** One layer's projections, whatever modules sit at their paths (dense or quantized). */
    public record Projections(LinearForward q, LinearForward k, LinearForward v, LinearForward o) {}

    private final int heads, kvHeads, headDim;
    private final float scale;
    private final float[][] keyCache, valueCache;

    public CachedSelfAttention(int layers, int heads, int kvHeads, int headDim, int maxPositions) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = (float) Math.pow(headDim, -0.5);
        int kvWidth = kvHeads * headDim;
        this.keyCache = new float[layers][Math.multiplyExact(maxPositions, kvWidth)];
        this.valueCache = new float[layers][Math.multiplyExact(maxPositions, kvWidth)];
    }

    /** cos and sin ({@code [2][n][dim/2]}) of positions {@code start..start+n}: {@code inv_freq @ position_ids} in F32, times the scaling. */
    public static float[][][] rotary(float[] invFreq, float attentionScaling, int start, int n) {
        float[][][] cosSin = new float[2][n][invFreq.length];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < invFreq.length; i++) {
                float angle = (start + t) * invFreq[i];
                cosSin[0][t][i] = (float) Math.cos(angle) * attentionScaling;
                cosSin[1][t][i] = (float) Math.sin(angle) * attentionScaling;
            }
        }
        return cosSin;
    }

    /**
     * {@code out[n × hidden]} = layer {@code layer}'s attention over the normed input {@code x[n × hidden]}
     * at positions {@code position..position+n}, whose keys and values join the cache.
     *
     * @param window  sliding window, 0 for full causal attention
     * @param sinks   one logit per head, or null
     */
    public void forward(Kernels k, int layer, Projections p, float[] x, int n, int position, float[][][] cosSin, int window, float[] sinks,
                        float[] out) {
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim;
        float[] q = new float[n * qWidth], kv = new float[n * kvWidth], vv = new float[n * kvWidth], attn = new float[n * qWidth];
        p.q().forward(k, x, n, q);
        p.k().forward(k, x, n, kv);
        p.v().forward(k, x, n, vv);
        for (int t = 0; t < n; t++) {
            for (int hh = 0; hh < heads; hh++) k.rope(q, t * qWidth + hh * headDim, headDim, cosSin[0][t], cosSin[1][t]);
            for (int hh = 0; hh < kvHeads; hh++) k.rope(kv, t * kvWidth + hh * headDim, headDim, cosSin[0][t], cosSin[1][t]);
        }
        System.arraycopy(kv, 0, keyCache[layer], position * kvWidth, n * kvWidth);
        System.arraycopy(vv, 0, valueCache[layer], position * kvWidth, n * kvWidth);
        float[] keys = keyCache[layer], values = valueCache[layer];
        Parallel.forRange(n, 4, (from, to) -> {
            float[] scores = new float[position + n + 1];
            for (int t = from; t < to; t++) {
                Attention.attend(k, q, t * qWidth, keys, values, position + t, heads, kvHeads, headDim, window, sinks, scale, scores, attn, t * qWidth);
            }
        });
        p.o().forward(k, attn, n, out);
    }
}
