package dev.qload.quantizers.bnb;

/**
 * An F32 sum in exactly the order torch's CPU kernel adds (ATen {@code SumKernel.cpp ::
 * cascade_sum → vectorized_inner_sum → row_sum → multi_row_sum}, 8-lane vectors as in torch's
 * AVX2 build), so that {@code absmax.mean()} — bitsandbytes' nested offset, written into every
 * double-quantized checkpoint — comes out bit-identical. A plain, pairwise or double-precision sum
 * differs in the last bit on about one weight in three.
 *
 * <pre>
 * vectors V[0..n/8) of 8 lanes; the tail n mod 8 is summed separately
 * row_sum: four partial vectors P[k] = Σ_i V[4i + k] (cascaded every 2^p vectors, p = max(4, ⌈log2(n/32)⌉ / 4)),
 *          leftover vectors into P[0], then P[0] += P[1]; += P[2]; += P[3]
 * result = (Σ tail, left to right) + P[0][0] + P[0][1] + ... + P[0][7]
 * </pre>
 */
final class TorchSum {
    static final int LANES = 8;
    private static final int ILP = 4;
    private static final int LEVELS = 4;

    private TorchSum() {}

    static float sum(float[] a) {
        int vectors = a.length / LANES;
        float result = 0;
        for (int k = vectors * LANES; k < a.length; k++) result += a[k];
        if (vectors == 0) return result;
        int rows = vectors / ILP;
        float[][] partial = multiRowSum(a, rows);
        for (int v = rows * ILP; v < vectors; v++) addVector(partial[0], a, v);
        for (int k = 1; k < ILP; k++) for (int l = 0; l < LANES; l++) partial[0][l] += partial[k][l];
        for (int l = 0; l < LANES; l++) result += partial[0][l];
        return result;
    }

    private static void addVector(float[] acc, float[] a, int vector) {
        for (int l = 0; l < LANES; l++) acc[l] += a[vector * LANES + l];
    }

    /** multi_row_sum with nrows = 4: element (i, k) is vector 4i + k. */
    private static float[][] multiRowSum(float[] a, int size) {
        int levelPower = Math.max(4, ceilLog2(size) / LEVELS);
        int levelStep = 1 << levelPower, levelMask = levelStep - 1;
        float[][][] acc = new float[LEVELS][ILP][LANES];
        int i = 0;
        while (i + levelStep <= size) {
            for (int j = 0; j < levelStep; j++, i++) for (int k = 0; k < ILP; k++) addVector(acc[0][k], a, i * ILP + k);
            for (int j = 1; j < LEVELS; j++) {
                for (int k = 0; k < ILP; k++) {
                    for (int l = 0; l < LANES; l++) acc[j][k][l] += acc[j - 1][k][l];
                    java.util.Arrays.fill(acc[j - 1][k], 0f);
                }
                if ((i & (levelMask << (j * levelPower))) != 0) break;
            }
        }
        for (; i < size; i++) for (int k = 0; k < ILP; k++) addVector(acc[0][k], a, i * ILP + k);
        for (int j = 1; j < LEVELS; j++) for (int k = 0; k < ILP; k++) for (int l = 0; l < LANES; l++) acc[0][k][l] += acc[j][k][l];
        return acc[0];
    }

    private static int ceilLog2(int x) {
        return x <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(x - 1);
    }
}
