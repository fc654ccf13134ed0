package dev.qload.quantizers.bnb;

/**
 * bitsandbytes' code tables (spec/FORMATS.md §2.1, §2.3; {@code bitsandbytes/functional.py ::
 * get_4bit_type, create_dynamic_map}; {@code csrc/kernels.cu :: dQuantizeNF4, dQuantizeFP4}).
 * The index is the stored code; values are already normalised to [-1, 1].
 */
final class Codebooks {
    private Codebooks() {}

    /** NF4: quantiles of N(0, 1), sorted ({@code create_normal_map(offset=0.9677083)}). */
    static final float[] NF4 = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };

    /** Midpoints between consecutive NF4 values: code i+1 when x is strictly above threshold i. */
    static final float[] NF4_THRESHOLDS = {
        -0.8480964f, -0.6106329f, -0.4599953f, -0.3396794f, -0.2346074f, -0.1379117f, -0.0455250f,
        0.0397901f, 0.1202553f, 0.2035213f, 0.2920138f, 0.3893125f, 0.5016634f, 0.6427869f, 0.8614784f,
    };

    /**
     * bnb's own FP4 (not OCP E2M1): bit 3 is the sign, the low 3 bits index
     * {@code [0, 0.0625, 8, 12, 4, 6, 2, 3]}, and the table is divided by its maximum, 12.
     */
    static final float[] FP4 = fp4();

    /** Magnitude buckets in ascending value: the 3-bit codes for 0, 0.0052, 0.1667, 0.25, 0.3333, 0.5, 0.6667, 1. */
    static final int[] FP4_CODES_ASCENDING = {0, 1, 6, 7, 4, 5, 2, 3};

    /** Midpoints between consecutive ascending FP4 magnitudes ({@code dQuantizeFP4}'s tree). */
    static final float[] FP4_THRESHOLDS = {0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f, 0.4166667f, 0.583333f, 0.8333333f};

    private static float[] fp4() {
        float[] lut = {0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f};
        float[] table = new float[16];
        for (int i = 0; i < 8; i++) {
            table[i] = lut[i] / 12f;
            table[i + 8] = -lut[i] / 12f;
        }
        return table;
    }

    /**
     * The 256-entry signed dynamic map used for nested absmax
     * ({@code create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)}): for i = 0..6,
     * the 2^i midpoints of {@code linspace(0.1, 1, 2^i + 1)} scaled by ±10^(i−6), plus 0 and 1,
     * sorted. Index 127 is 0, index 255 is 1.
     */
    static final float[] DYNAMIC = dynamicMap();

    private static float[] dynamicMap() {
        java.util.List<Float> values = new java.util.ArrayList<>();
        int maxExponentBits = 7, totalBits = 8;
        int nonSignBits = totalBits - 1; // signed
        for (int i = 0; i < maxExponentBits; i++) {
            int fractionItems = (1 << (i + nonSignBits - maxExponentBits)) + 1; // 2^i + 1 for these arguments
            double[] boundaries = linspace(0.1, 1, fractionItems);
            for (int j = 0; j < boundaries.length - 1; j++) {
                // torch: means = (b[:-1] + b[1:]) / 2.0 in float32; then 10 ** (-(max_exponent_bits - 1) + i) * means
                float mean = (float) ((float) boundaries[j] + (float) boundaries[j + 1]) / 2f;
                float scale = (float) Math.pow(10, -(maxExponentBits - 1) + i);
                values.add(scale * mean);
                values.add(-scale * mean);
            }
        }
        values.add(0f);
        values.add(1f);
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = values.get(i);
        java.util.Arrays.sort(out);
        if (out.length != 256) throw new IllegalStateException("dynamic map has " + out.length + " entries");
        return out;
    }

    /** torch.linspace in float32: start + i·(end − start)/(steps − 1). */
    private static double[] linspace(double start, double end, int steps) {
        double[] out = new double[steps];
        float step = (float) ((end - start) / (steps - 1));
        for (int i = 0; i < steps; i++) out[i] = (float) start + i * step;
        return out;
    }

    static float[] table(QuantType type) {
        return type == QuantType.NF4 ? NF4 : FP4;
    }

    /** The 4-bit code of a normalised value x ∈ [−1, 1]: nearest value, ties to the lower code. */
    static int quantize4(QuantType type, float x) {
        if (type == QuantType.NF4) {
            int code = 0;
            while (code < 15 && x > NF4_THRESHOLDS[code]) code++;
            return code;
        }
        float magnitude = Math.abs(x);
        int bucket = 0;
        while (bucket < 7 && magnitude > FP4_THRESHOLDS[bucket]) bucket++;
        int code = FP4_CODES_ASCENDING[bucket];
        return x < 0 ? code | 8 : code;
    }
}
