package dev.qload.quantizers.bnb;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.module.Module;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

/**
 * bitsandbytes' {@code Linear8bitLt} in HF's layout: {@code weight} I8 [out, in] (row-major, the
 * "row" format), {@code SCB} F32 [out], {@code bias}; {@code weight_format} (U8 scalar 0) is read
 * at replacement and written back on save. The forward pass is LLM.int8's outlier decomposition
 * ({@link Int8Rows}).
 */
final class Linear8bitLt extends Module implements LinearForward {
    private final int in, out;
    private final boolean hasBias;
    private final float threshold;

    Linear8bitLt(long in, long out, boolean bias, DType biasDtype, float threshold) {
        this.in = Math.toIntExact(in);
        this.out = Math.toIntExact(out);
        this.hasBias = bias;
        this.threshold = threshold;
        registerParameter("weight", Tensor.empty(Shape.of(out, in), DType.I8));
        registerPersistentBuffer("SCB", Tensor.empty(Shape.of(out), DType.F32), null);
        if (bias) registerParameter("bias", Tensor.empty(Shape.of(out), biasDtype));
    }

    void quantizeFrom(Tensor dense, Map<String, Tensor> targets) {
        MemorySegment cb = targets.get("weight").data(), scb = targets.get("SCB").data();
        Parallel.forRange(out, 16, (from, to) -> Int8Rows.quantizeRows(dense.data(), dense.dtype(), in, cb, scb, from, to));
    }

    /** The dense weight, F32 [out, in]: CB · SCB / 127. */
    float[] dequantize() {
        MemorySegment cb = slot("weight").get().data(), scb = slot("SCB").get().data();
        float[] w = new float[Math.multiplyExact(out, in)];
        for (int r = 0; r < out; r++) {
            float s = scb.getAtIndex(Blockwise4bit.F32, r);
            for (int c = 0; c < in; c++) w[r * in + c] = cb.get(ValueLayout.JAVA_BYTE, (long) r * in + c) * s * Int8Rows.INV_127;
        }
        return w;
    }

    @Override
    public long inFeatures() {
        return in;
    }

    @Override
    public long outFeatures() {
        return out;
    }

    /**
     * {@code MatMul8bitLt.forward} on bnb's default backend: activations go to F16 for the int8
     * side; elements with |x| ≥ threshold are zeroed before the row scale is taken, and their whole
     * columns are dropped from the int8 product and added back in full precision against the
     * dequantized weight columns.
     */
    @Override
    public void forward(Kernels k, float[] x, int tokens, float[] y) {
        float[] xh = new float[tokens * in];
        for (int i = 0; i < xh.length; i++) xh[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
        boolean[] outlierColumn = new boolean[in];
        boolean anyOutlier = false;
        if (threshold > 0) {
            for (int i = 0; i < xh.length; i++) {
                if (Math.abs(xh[i]) >= threshold) {
                    xh[i] = 0;
                    outlierColumn[i % in] = true;
                    anyOutlier = true;
                }
            }
        }
        byte[] ca = new byte[tokens * in];
        float[] sca = new float[tokens];
        for (int t = 0; t < tokens; t++) {
            float max = 0;
            for (int c = 0; c < in; c++) max = Math.max(max, Math.abs(xh[t * in + c]));
            sca[t] = max;
            float factor = Int8Rows.factor(max);
            for (int c = 0; c < in; c++) ca[t * in + c] = outlierColumn[c] ? 0 : Int8Rows.quantize(xh[t * in + c], max, factor);
        }
        MemorySegment cb = slot("weight").get().data(), scb = slot("SCB").get().data();
        float[] bias = hasBias ? slot("bias").get().toFloatArray() : null;
        boolean outliers = anyOutlier;
        Parallel.forRange(out, 16, (from, to) -> {
            byte[] row = new byte[in];
            for (int r = from; r < to; r++) {
                MemorySegment.copy(cb, ValueLayout.JAVA_BYTE, (long) r * in, row, 0, in);
                float s = scb.getAtIndex(Blockwise4bit.F32, r);
                for (int t = 0; t < tokens; t++) {
                    int acc = 0;
                    for (int c = 0; c < in; c++) acc += ca[t * in + c] * row[c];
                    float v = acc * (sca[t] * s) * Int8Rows.INV_127_SQUARED + (bias == null ? 0 : bias[r]);
                    if (outliers) {
                        float extra = 0;
                        for (int c = 0; c < in; c++) if (outlierColumn[c]) extra += x[t * in + c] * (row[c] * s * Int8Rows.INV_127);
                        v += extra;
                    }
                    y[t * out + r] = v;
                }
            }
        });
    }
}
