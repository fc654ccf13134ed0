package dev.qload.models.llama;

import dev.qload.core.tensor.Tensor;

/**
 * {@code inv_freq} and the attention scaling of every RoPE type Llama-family checkpoints use,
 * as transformers' {@code ROPE_INIT_FUNCTIONS} compute them ({@code modeling_rope_utils.py ::
 * _compute_default_rope_parameters, _compute_linear_scaling_rope_parameters,
 * _compute_dynamic_ntk_parameters, _compute_llama3_parameters, _compute_yarn_parameters}).
 *
 * <p>The arithmetic is float32 step by step, as torch evaluates those expressions on f32 tensors,
 * so the result matches transformers bit for bit (tools/fixtures/README.md, "Exact float32
 * arithmetic"): Python scalars are rounded to f32 first, and {@code scalar / tensor} is torch's
 * {@code reciprocal(tensor) * scalar}.
 */
public final class RopeInit {
    private static final float TWO_PI = (float) (2 * Math.PI);

    private RopeInit() {}

    /** {@code inv_freq}, {@code dim/2} values. */
    public static float[] invFreq(RopeParameters p) {
        return switch (p.type()) {
            // Dynamic NTK only rescales once a sequence outgrows max_position_embeddings; at init it is the default.
            case "default", "dynamic" -> base(p.theta(), p.dim());
            case "linear" -> linear(p);
            case "llama3" -> llama3(p);
            case "yarn" -> yarn(p);
            default -> throw new IllegalArgumentException("rope type " + p.type());
        };
    }

    /** The factor cos and sin are multiplied by: 1 except for yarn. */
    public static float attentionScaling(RopeParameters p) {
        if (!p.type().equals("yarn")) return 1f;
        if (p.attentionFactor() != null) return p.attentionFactor().floatValue();
        if (p.mscale() != null && p.mscaleAllDim() != null) {
            return (float) (yarnMscale(p.factor(), p.mscale()) / yarnMscale(p.factor(), p.mscaleAllDim()));
        }
        return (float) yarnMscale(p.factor(), 1.0);
    }

    public static void fill(Tensor target, float[] values) {
        for (int i = 0; i < values.length; i++) target.setFloat(i, values[i]);
    }

    /** {@code base ** (arange(0, dim, 2).float() / dim)}, the positional frequencies' denominators. */
    private static float[] posFreqs(double theta, int dim) {
        float[] p = new float[dim / 2];
        for (int i = 0; i < p.length; i++) p[i] = (float) Math.pow((float) theta, (float) (2 * i) / (float) dim);
        return p;
    }

    private static float[] base(double theta, int dim) {
        float[] p = posFreqs(theta, dim);
        for (int i = 0; i < p.length; i++) p[i] = 1f / p[i];
        return p;
    }

    private static float[] linear(RopeParameters p) {
        float[] inv = base(p.theta(), p.dim());
        for (int i = 0; i < inv.length; i++) inv[i] = inv[i] / (float) p.factor();
        return inv;
    }

    private static float[] llama3(RopeParameters p) {
        float[] inv = base(p.theta(), p.dim());
        float factor = (float) p.factor(), low = (float) p.lowFreqFactor(), high = (float) p.highFreqFactor();
        float oldContext = p.originalMaxPositionEmbeddings();
        float lowFreqWavelen = (float) (p.originalMaxPositionEmbeddings() / p.lowFreqFactor());
        float highFreqWavelen = (float) (p.originalMaxPositionEmbeddings() / p.highFreqFactor());
        for (int i = 0; i < inv.length; i++) {
            float wavelen = (1f / inv[i]) * TWO_PI;
            float scaled = wavelen > lowFreqWavelen ? inv[i] / factor : inv[i];
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                float smooth = ((1f / wavelen) * oldContext - low) / (high - low);
                scaled = ((1 - smooth) * scaled) / factor + smooth * scaled;
            }
            inv[i] = scaled;
        }
        return inv;
    }

    private static float[] yarn(RopeParameters p) {
        int dim = p.dim();
        float[] pos = posFreqs(p.theta(), dim);
        float factor = (float) p.factor();
        double low = correctionDim(p.betaFast(), dim, p.theta(), p.originalMaxPositionEmbeddings());
        double high = correctionDim(p.betaSlow(), dim, p.theta(), p.originalMaxPositionEmbeddings());
        if (p.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001; // transformers' guard against a zero-width ramp
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float ramp = Math.clamp(((float) i - (float) low) / (float) (high - low), 0f, 1f);
            float extrapolation = 1 - ramp;
            float interpolated = 1f / (factor * pos[i]);
            float extrapolated = 1f / pos[i];
            inv[i] = interpolated * (1 - extrapolation) + extrapolated * extrapolation;
        }
        return inv;
    }

    /** {@code find_correction_dim}: the dimension whose wavelength makes {@code rotations} turns over the context. */
    private static double correctionDim(double rotations, int dim, double base, int maxPositions) {
        return (dim * Math.log(maxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
    }

    /** {@code get_mscale}: 0.1·m·ln(scale) + 1 for scale > 1. */
    private static double yarnMscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }
}
