package dev.qload.quantizers.bnb;

import dev.qload.core.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * LLM.int8 row-wise ("vectorwise") quantization and its mixed-precision product
 * (spec/FORMATS.md §2.5; {@code backends/default/ops.py :: int8_vectorwise_quant,
 * int8_mixed_scaled_mm}):
 *
 * <pre>
 * W16 = W.to(float16)
 * SCB[r] = max_c |W16[r, c]|                       F32
 * CB[r, c] = round_half_even(W16[r, c] · 127 / SCB[r])   I8
 * W ≈ CB · SCB / 127
 * Y = (CA · CBᵀ) · SCA·SCB / 127² + b + X[:, outliers] · dequant(CB[:, outliers])ᵀ
 * </pre>
 *
 * where CA/SCA quantize the activations the same way after zeroing the outlier columns, those
 * whose magnitude reaches the threshold in any row (6.0 by default; 0 disables the split).
 */
final class Int8Rows {
    /** 1/127 and 1/127² as bitsandbytes writes them. */
    static final float INV_127 = 7.874015718698502e-3f;
    static final float INV_127_SQUARED = 6.200124e-05f;

    private Int8Rows() {}

    static void quantizeRows(MemorySegment src, DType dtype, int in, MemorySegment cb, MemorySegment scb, int fromRow, int toRow) {
        float[] row = new float[in];
        for (int r = fromRow; r < toRow; r++) {
            float max = 0;
            for (int c = 0; c < in; c++) {
                float v = Float.float16ToFloat(Float.floatToFloat16(Blockwise4bit.read(src, dtype, (long) r * in + c)));
                row[c] = v;
                max = Math.max(max, Math.abs(v));
            }
            scb.setAtIndex(Blockwise4bit.F32, r, max);
            float factor = factor(max);
            for (int c = 0; c < in; c++) cb.set(ValueLayout.JAVA_BYTE, (long) r * in + c, quantize(row[c], max, factor));
        }
    }

    /** {@code 127.0 / row_stats}: torch's reciprocal-then-multiply, in F32. */
    static float factor(float max) {
        return (1f / max) * 127f;
    }

    /** round(v · factor), half to even; an all-zero row gives zeros (bnb would compute 0·inf). */
    static byte quantize(float v, float max, float factor) {
        if (max == 0) return 0;
        return (byte) Math.rint(v * factor);
    }
}
