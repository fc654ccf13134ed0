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

    /**
     * bnb's own FP4 (not OCP E2M1): bit 3 is the sign, the low 3 bits index
     * {@code [0, 0.0625, 8, 12, 4, 6, 2, 3]}, and the table is divided by its maximum, 12.
     */
    static final float[] FP4 = fp4();

    private static float[] fp4() {
        float[] lut = {0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f};
        float[] table = new float[16];
        for (int i = 0; i < 8; i++) {
            table[i] = lut[i] / 12f;
            // Code 8 is +0.0, not -0.0: bnb's table literal is the Python int -0.
            table[i + 8] = i == 0 ? 0f : -lut[i] / 12f;
        }
        return table;
    }

    /**
     * The 256-entry signed dynamic map used for nested absmax
     * ({@code create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)}; spec/FORMATS.md
     * §2.3): for i = 0..6, the 2^i midpoints of {@code linspace(0.1, 1, 2^i + 1)} scaled by
     * ±10^(i−6), plus 0 and 1, sorted; index 127 is 0, index 255 is 1. The values are the table
     * as torch's CPU {@code linspace} evaluates it (its vectorised steps round differently from the
     * textbook formula in 90 of 256 entries, by one ulp), taken from tools/fixtures/bnb's run of
     * bitsandbytes' own construction. A pre-quantized checkpoint carries its own copy
     * ({@code weight.nested_quant_map}), which is what dequantization uses.
     */
    static final float[] DYNAMIC = {
        -0x1.fc6666p-1f, -0x1.f53332p-1f, -0x1.eep-1f, -0x1.e6ccccp-1f,
        -0x1.df9998p-1f, -0x1.d86666p-1f, -0x1.d13334p-1f, -0x1.cap-1f,
        -0x1.c2ccccp-1f, -0x1.bb9998p-1f, -0x1.b46666p-1f, -0x1.ad3332p-1f,
        -0x1.a6p-1f, -0x1.9eccccp-1f, -0x1.979998p-1f, -0x1.906666p-1f,
        -0x1.893334p-1f, -0x1.82p-1f, -0x1.7acccep-1f, -0x1.73999ap-1f,
        -0x1.6c6668p-1f, -0x1.653334p-1f, -0x1.5ep-1f, -0x1.56cccep-1f,
        -0x1.4f999ap-1f, -0x1.486666p-1f, -0x1.413334p-1f, -0x1.3ap-1f,
        -0x1.32ccccp-1f, -0x1.2b999ap-1f, -0x1.246668p-1f, -0x1.1d3334p-1f,
        -0x1.16p-1f, -0x1.0eccccp-1f, -0x1.07999ap-1f, -0x1.006666p-1f,
        -0x1.f26668p-2f, -0x1.e4p-2f, -0x1.d59998p-2f, -0x1.c73334p-2f,
        -0x1.b8ccccp-2f, -0x1.aa6664p-2f, -0x1.9cp-2f, -0x1.8d9998p-2f,
        -0x1.7f3334p-2f, -0x1.70ccccp-2f, -0x1.626664p-2f, -0x1.54p-2f,
        -0x1.459998p-2f, -0x1.373334p-2f, -0x1.28ccccp-2f, -0x1.1a6668p-2f,
        -0x1.0cp-2f, -0x1.fb3334p-3f, -0x1.de6668p-3f, -0x1.c1999ap-3f,
        -0x1.a4ccccp-3f, -0x1.88p-3f, -0x1.6b3332p-3f, -0x1.4e6666p-3f,
        -0x1.31999ap-3f, -0x1.14ccccp-3f, -0x1.fp-4f, -0x1.b66668p-4f,
        -0x1.93d70ap-4f, -0x1.8851eap-4f, -0x1.7ccccep-4f, -0x1.7147aep-4f,
        -0x1.65c29p-4f, -0x1.5a3d7p-4f, -0x1.4eb85p-4f, -0x1.433334p-4f,
        -0x1.37ae14p-4f, -0x1.2c28f6p-4f, -0x1.20a3d6p-4f, -0x1.151ebap-4f,
        -0x1.09999ap-4f, -0x1.fc28f4p-5f, -0x1.e51ebap-5f, -0x1.ce147ap-5f,
        -0x1.b70a3ep-5f, -0x1.ap-5f, -0x1.88f5c2p-5f, -0x1.71eb86p-5f,
        -0x1.5ae146p-5f, -0x1.43d70ap-5f, -0x1.2ccccep-5f, -0x1.15c28ep-5f,
        -0x1.fd70a4p-6f, -0x1.cf5c26p-6f, -0x1.a147aep-6f, -0x1.733334p-6f,
        -0x1.451eb8p-6f, -0x1.170a3ep-6f, -0x1.d1eb86p-7f, -0x1.75c29p-7f,
        -0x1.3e76c8p-7f, -0x1.2c083p-7f, -0x1.19999ap-7f, -0x1.072b02p-7f,
        -0x1.e978d4p-8f, -0x1.c49ba6p-8f, -0x1.9fbe76p-8f, -0x1.7ae148p-8f,
        -0x1.56041ap-8f, -0x1.3126e8p-8f, -0x1.0c49bap-8f, -0x1.ced914p-9f,
        -0x1.851eb8p-9f, -0x1.3b645ap-9f, -0x1.e353f8p-10f, -0x1.4fdf3ap-10f,
        -0x1.eecbfep-11f, -0x1.b3d07cp-11f, -0x1.78d5p-11f, -0x1.3dd982p-11f,
        -0x1.02de02p-11f, -0x1.8fc506p-12f, -0x1.19ce0ap-12f, -0x1.47ae16p-13f,
        -0x1.743e96p-14f, -0x1.15df66p-14f, -0x1.6f0068p-15f, -0x1.64840cp-16f,
        -0x1.040bfep-17f, -0x1.b43528p-19f, -0x1.27476ep-21f, 0f,
        0x1.27476ep-21f, 0x1.b43528p-19f, 0x1.040bfep-17f, 0x1.64840cp-16f,
        0x1.6f0068p-15f, 0x1.15df66p-14f, 0x1.743e96p-14f, 0x1.47ae16p-13f,
        0x1.19ce0ap-12f, 0x1.8fc506p-12f, 0x1.02de02p-11f, 0x1.3dd982p-11f,
        0x1.78d5p-11f, 0x1.b3d07cp-11f, 0x1.eecbfep-11f, 0x1.4fdf3ap-10f,
        0x1.e353f8p-10f, 0x1.3b645ap-9f, 0x1.851eb8p-9f, 0x1.ced914p-9f,
        0x1.0c49bap-8f, 0x1.3126e8p-8f, 0x1.56041ap-8f, 0x1.7ae148p-8f,
        0x1.9fbe76p-8f, 0x1.c49ba6p-8f, 0x1.e978d4p-8f, 0x1.072b02p-7f,
        0x1.19999ap-7f, 0x1.2c083p-7f, 0x1.3e76c8p-7f, 0x1.75c29p-7f,
        0x1.d1eb86p-7f, 0x1.170a3ep-6f, 0x1.451eb8p-6f, 0x1.733334p-6f,
        0x1.a147aep-6f, 0x1.cf5c26p-6f, 0x1.fd70a4p-6f, 0x1.15c28ep-5f,
        0x1.2ccccep-5f, 0x1.43d70ap-5f, 0x1.5ae146p-5f, 0x1.71eb86p-5f,
        0x1.88f5c2p-5f, 0x1.ap-5f, 0x1.b70a3ep-5f, 0x1.ce147ap-5f,
        0x1.e51ebap-5f, 0x1.fc28f4p-5f, 0x1.09999ap-4f, 0x1.151ebap-4f,
        0x1.20a3d6p-4f, 0x1.2c28f6p-4f, 0x1.37ae14p-4f, 0x1.433334p-4f,
        0x1.4eb85p-4f, 0x1.5a3d7p-4f, 0x1.65c29p-4f, 0x1.7147aep-4f,
        0x1.7ccccep-4f, 0x1.8851eap-4f, 0x1.93d70ap-4f, 0x1.b66668p-4f,
        0x1.fp-4f, 0x1.14ccccp-3f, 0x1.31999ap-3f, 0x1.4e6666p-3f,
        0x1.6b3332p-3f, 0x1.88p-3f, 0x1.a4ccccp-3f, 0x1.c1999ap-3f,
        0x1.de6668p-3f, 0x1.fb3334p-3f, 0x1.0cp-2f, 0x1.1a6668p-2f,
        0x1.28ccccp-2f, 0x1.373334p-2f, 0x1.459998p-2f, 0x1.54p-2f,
        0x1.626664p-2f, 0x1.70ccccp-2f, 0x1.7f3334p-2f, 0x1.8d9998p-2f,
        0x1.9cp-2f, 0x1.aa6664p-2f, 0x1.b8ccccp-2f, 0x1.c73334p-2f,
        0x1.d59998p-2f, 0x1.e4p-2f, 0x1.f26668p-2f, 0x1.006666p-1f,
        0x1.07999ap-1f, 0x1.0eccccp-1f, 0x1.16p-1f, 0x1.1d3334p-1f,
        0x1.246668p-1f, 0x1.2b999ap-1f, 0x1.32ccccp-1f, 0x1.3ap-1f,
        0x1.413334p-1f, 0x1.486666p-1f, 0x1.4f999ap-1f, 0x1.56cccep-1f,
        0x1.5ep-1f, 0x1.653334p-1f, 0x1.6c6668p-1f, 0x1.73999ap-1f,
        0x1.7acccep-1f, 0x1.82p-1f, 0x1.893334p-1f, 0x1.906666p-1f,
        0x1.979998p-1f, 0x1.9eccccp-1f, 0x1.a6p-1f, 0x1.ad3332p-1f,
        0x1.b46666p-1f, 0x1.bb9998p-1f, 0x1.c2ccccp-1f, 0x1.cap-1f,
        0x1.d13334p-1f, 0x1.d86666p-1f, 0x1.df9998p-1f, 0x1.e6ccccp-1f,
        0x1.eep-1f, 0x1.f53332p-1f, 0x1.fc6666p-1f, 0x1p+0f,
    };

    static float[] table(QuantType type) {
        return type == QuantType.NF4 ? NF4 : FP4;
    }

    /**
     * Nearest-code search as bnb's default backend does it ({@code backends/default/ops.py ::
     * _get_4bit_quantize_bounds}, {@code torch.bucketize}): the table sorted (stably), F32
     * midpoints {@code (sorted[i] + sorted[i+1]) / 2}, and a value exactly on a midpoint goes to
     * the lower one. Checked bit for bit against tools/fixtures/bnb.
     */
    static final class Bucketizer {
        /** Cells over [−1, 1]: narrow enough that no cell of the 4-bit tables holds two midpoints. */
        private static final int CELLS = 4096;

        private final float[] midpoints;
        private final int[] codeOfBucket;
        // The midpoints of cell c are midpoints[cellStart[c] .. cellStart[c+1]): the cell map is
        // monotone, so every midpoint of a lower cell is below x and every one of a higher cell above
        // it, and only those of x's own cell need comparing. For the 4-bit tables a cell holds at most
        // one (constant time); the 8-bit dynamic map, dense near 0, has a few crowded cells, searched
        // by bisection (issue 10: its full bisection over 255 midpoints took 17 % of an NF4 load).
        private final int[] cellStart;
        private final boolean oneMidpointPerCell;

        Bucketizer(float[] table) {
            Integer[] order = new Integer[table.length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            java.util.Arrays.sort(order, (a, b) -> Float.compare(table[a], table[b]) != 0 ? Float.compare(table[a], table[b]) : Integer.compare(a, b));
            codeOfBucket = new int[table.length];
            midpoints = new float[table.length - 1];
            for (int i = 0; i < table.length; i++) codeOfBucket[i] = order[i];
            for (int i = 0; i < midpoints.length; i++) midpoints[i] = (table[order[i]] + table[order[i + 1]]) / 2f;
            cellStart = new int[CELLS + 1]; // first the count per cell, then its prefix sum
            for (float m : midpoints) cellStart[cell(m) + 1]++;
            int most = 0;
            for (int c = 0; c < CELLS; c++) {
                most = Math.max(most, cellStart[c + 1]);
                cellStart[c + 1] += cellStart[c];
            }
            oneMidpointPerCell = most <= 1;
        }

        private static int cell(float x) {
            int c = (int) ((x + 1f) * (CELLS / 2));
            return c < 0 ? 0 : Math.min(c, CELLS - 1);
        }

        /** The code of x: bucket = number of midpoints strictly below x. */
        int code(float x) {
            int c = cell(x);
            int lo = cellStart[c], hi = cellStart[c + 1]; // first index in [lo, hi) with midpoints[i] >= x
            while (lo < hi) {
                int m = (lo + hi) >>> 1;
                if (midpoints[m] < x) lo = m + 1;
                else hi = m;
            }
            return codeOfBucket[lo];
        }

        /** The reference search, for tests. */
        int codeBySearch(float x) {
            int lo = 0, hi = midpoints.length;
            while (lo < hi) {
                int m = (lo + hi) >>> 1;
                if (midpoints[m] < x) lo = m + 1;
                else hi = m;
            }
            return codeOfBucket[lo];
        }

        /** The sorted F32 midpoints (a copy). */
        float[] midpoints() {
            return midpoints.clone();
        }

        /** The stored code of sorted bucket b. */
        int codeOfBucket(int b) {
            return codeOfBucket[b];
        }

        boolean hasConstantTimePath() {
            return oneMidpointPerCell;
        }
    }

    static final Bucketizer NF4_CODES = new Bucketizer(NF4);
    static final Bucketizer FP4_CODES = new Bucketizer(FP4);
    static final Bucketizer DYNAMIC_CODES = new Bucketizer(DYNAMIC);

    static Bucketizer codes(QuantType type) {
        return type == QuantType.NF4 ? NF4_CODES : FP4_CODES;
    }
}
