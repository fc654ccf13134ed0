package dev.qload.timm.eva;

/**
 * The rotary table of timm's {@code RotaryEmbeddingCat} with {@code in_pixels=False} (EVA-02):
 * timm/layers/pos_embed_sincos.py {@code build_rotary_pos_embed} → {@code build_fourier_pos_embed},
 * step by step in F32 as PyTorch computes it:
 * <pre>
 *   bands[i] = 1 / temperature ** (float(i) / (dim/4))          freq_bands(dim/4, step=1)
 *   t_a[p]   = float(p) + grid_offset, then t / feat_a * ref_a     (eva's resize scheme, when ref_feat_shape)
 *   pos[y, x, axis, i] = t_axis · bands[i]                         meshgrid 'ij', axis 0 = rows
 *   table[y·W + x] = [ sin(pos) repeat_interleave 2 | cos(pos) repeat_interleave 2 ]   → [H·W, 2·dim]
 * </pre>
 * Each half is {@code dim} wide: for each axis {@code dim/4} bands, each value twice, which pairs
 * with {@code rot(x) = [−x1, x0, −x3, x2, …]} (the interleaved rotation, {@code rotate_half=False}).
 */
final class RotaryTables {
    private RotaryTables() {}

    static float[] catTable(int dim, int gridH, int gridW, double temperature, int[] refFeatShape, float gridOffset) {
        int numBands = dim / 4;
        float[] bands = new float[numBands];
        for (int i = 0; i < numBands; i++) {
            float exp = (float) i / numBands; // arange(int64).to(float32) / num_bands, an F32 division
            bands[i] = 1f / (float) Math.pow(temperature, exp);
        }
        float[] ty = axis(gridH, refFeatShape == null ? 0 : refFeatShape[0], gridOffset);
        float[] tx = axis(gridW, refFeatShape == null ? 0 : refFeatShape[1], gridOffset);
        float[] table = new float[gridH * gridW * 2 * dim];
        for (int y = 0; y < gridH; y++) {
            for (int x = 0; x < gridW; x++) {
                int row = (y * gridW + x) * 2 * dim;
                for (int a = 0; a < 2; a++) {
                    float t = a == 0 ? ty[y] : tx[x];
                    for (int i = 0; i < numBands; i++) {
                        float pos = t * bands[i];
                        int j = 2 * (a * numBands + i);
                        float sin = (float) Math.sin(pos), cos = (float) Math.cos(pos);
                        table[row + j] = sin;
                        table[row + j + 1] = sin;
                        table[row + dim + j] = cos;
                        table[row + dim + j + 1] = cos;
                    }
                }
            }
        }
        return table;
    }

    private static float[] axis(int size, int ref, float offset) {
        float[] t = new float[size];
        for (int p = 0; p < size; p++) {
            t[p] = (float) p + offset;
            if (ref > 0) t[p] = t[p] / size * ref; // x / f * r, left to right, in F32
        }
        return t;
    }
}
