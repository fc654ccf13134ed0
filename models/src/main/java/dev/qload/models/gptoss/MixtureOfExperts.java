package dev.qload.models.gptoss;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.FusedExperts;
import dev.qload.core.nn.LinearForward;

/**
 * gpt-oss's MLP for a batch of tokens ({@code modeling_gpt_oss.py :: GptOssTopKRouter, GptOssExperts};
 * spec/FORMATS.md §4.4):
 * <pre>
 *   logits = x · Wrᵀ + br;  the top k logits, softmax over those k only → weights
 *   per selected expert e:  gu = x · gate_up[e] + b;  gate = gu[0::2], up = gu[1::2]   (interleaved)
 *                           gate = min(gate, limit);  up = clamp(up, −limit, limit)
 *                           h = (up + 1) · gate · sigmoid(α · gate)                     (α = 1.702)
 *                           y += weight_e · (h · down[e] + b)
 * </pre>
 * Tokens are grouped by expert, so each selected expert's weights are read once per call.
 */
final class MixtureOfExperts {
    /** {@code GptOssExperts.alpha}: the sigmoid's slope in the clamped SwiGLU. */
    static final float ALPHA = 1.702f;

    private final LinearForward router;
    private final FusedExperts experts;
    private final int topK;
    private final float limit;
    private float[] lastRouterLogits = new float[0];

    MixtureOfExperts(LinearForward router, FusedExperts experts, int topK, float limit) {
        this.router = router;
        this.experts = experts;
        this.topK = topK;
        this.limit = limit;
    }

    float[] lastRouterLogits() {
        return lastRouterLogits.clone();
    }

    /** {@code out[tokens × H]} = the mixture's output for {@code x[tokens × H]} (overwritten, not added). */
    void forward(Kernels k, float[] x, int tokens, float[] out) {
        int numExperts = experts.numExperts(), hidden = Math.toIntExact(experts.hiddenSize());
        int inter = Math.toIntExact(experts.intermediateSize());
        float[] logits = new float[tokens * numExperts];
        router.forward(k, x, tokens, logits);
        lastRouterLogits = logits;
        float[] weight = new float[tokens * numExperts]; // routing weight of (token, expert), 0 when not selected
        for (int t = 0; t < tokens; t++) route(logits, t * numExperts, numExperts, weight);
        java.util.Arrays.fill(out, 0, tokens * hidden, 0f);
        int[] members = new int[tokens];
        for (int e = 0; e < numExperts; e++) {
            int m = 0;
            for (int t = 0; t < tokens; t++) if (weight[t * numExperts + e] != 0f) members[m++] = t;
            if (m == 0) continue;
            float[] xs = new float[m * hidden];
            for (int i = 0; i < m; i++) System.arraycopy(x, members[i] * hidden, xs, i * hidden, hidden);
            float[] gu = new float[m * 2 * inter];
            experts.gateUp(e).forward(k, xs, m, gu);
            float[] act = new float[m * inter];
            clampedSwiglu(gu, act, m * inter);
            float[] ys = new float[m * hidden];
            experts.down(e).forward(k, act, m, ys);
            for (int i = 0; i < m; i++) k.axpy(weight[members[i] * numExperts + e], ys, i * hidden, out, members[i] * hidden, hidden);
        }
    }

    /** Top-k of one token's logits (on a tie the lower expert index wins; torch.topk leaves ties unspecified), softmax over them into {@code weight}. */
    private void route(float[] logits, int off, int numExperts, float[] weight) {
        int[] chosen = new int[topK];
        boolean[] taken = new boolean[numExperts];
        for (int j = 0; j < topK; j++) {
            int best = -1;
            for (int e = 0; e < numExperts; e++) if (!taken[e] && (best < 0 || logits[off + e] > logits[off + best])) best = e;
            taken[best] = true;
            chosen[j] = best;
        }
        float max = logits[off + chosen[0]], sum = 0;
        float[] p = new float[topK];
        for (int j = 0; j < topK; j++) sum += p[j] = (float) Math.exp(logits[off + chosen[j]] - max);
        for (int j = 0; j < topK; j++) weight[off + chosen[j]] = p[j] / sum;
    }

    /** gate/up interleaved in {@code gu} (2n values) → {@code act} (n values). */
    private void clampedSwiglu(float[] gu, float[] act, int n) {
        for (int i = 0; i < n; i++) {
            float gate = Math.min(gu[2 * i], limit);
            float up = Math.max(-limit, Math.min(gu[2 * i + 1], limit));
            float glu = gate * (float) (1.0 / (1.0 + Math.exp(-(double) (gate * ALPHA))));
            act[i] = (up + 1f) * glu;
        }
    }
}
