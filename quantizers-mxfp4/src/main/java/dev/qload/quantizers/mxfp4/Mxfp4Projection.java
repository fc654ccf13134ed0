package dev.qload.quantizers.mxfp4;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.Tensor;

/**
 * One expert's projection run straight from MXFP4: {@code y = x · W[e]ᵀ + b[e]} with {@code W[e]}
 * decoded one 32-element group at a time, unscaled, into a scratch the size of a group; each group's
 * dot product with the activations is multiplied by its scale afterwards. No dense weight, not even
 * a dense row, is ever materialised.
 */
final class Mxfp4Projection implements LinearForward {
    /** Output rows per task: a 2880-wide row is 1440 packed bytes. */
    private static final int ROW_GRAIN = 16;

    private final PackedWeight weight;
    private final Tensor bias; // [E, rows], or null
    private final int expert;

    Mxfp4Projection(PackedWeight weight, Tensor bias, int expert) {
        this.weight = weight;
        this.bias = bias;
        this.expert = expert;
    }

    @Override
    public long inFeatures() {
        return weight.cols();
    }

    @Override
    public long outFeatures() {
        return weight.rows();
    }

    @Override
    public void forward(Kernels k, float[] x, int tokens, float[] out) {
        int rows = weight.rows(), cols = weight.cols(), groups = weight.groups();
        float[] b = new float[rows];
        if (bias != null) k.toFloat(bias.data(), bias.dtype(), (long) expert * rows, b, 0, rows);
        Parallel.forRange(rows, ROW_GRAIN, (from, to) -> {
            float[] codes = new float[Mxfp4Format.GROUP];
            for (int r = from; r < to; r++) {
                for (int t = 0; t < tokens; t++) out[t * rows + r] = b[r];
                for (int g = 0; g < groups; g++) {
                    long group = weight.group(expert, r, g);
                    int s = weight.scale(group);
                    if (s == Mxfp4Format.SCALE_NAN) throw weight.nanScale(group);
                    for (int i = 0; i < Mxfp4Format.GROUP_BYTES; i++) {
                        int p = weight.packed(group, i);
                        codes[2 * i] = Mxfp4Format.BYTE_PAIRS[2 * p];
                        codes[2 * i + 1] = Mxfp4Format.BYTE_PAIRS[2 * p + 1];
                    }
                    float scale = Mxfp4Format.SCALE[s];
                    for (int t = 0; t < tokens; t++) {
                        out[t * rows + r] += scale * k.dot(codes, 0, x, t * cols + g * Mxfp4Format.GROUP, Mxfp4Format.GROUP);
                    }
                }
            }
        });
    }
}
