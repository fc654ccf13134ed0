package dev.qload.core.kernel;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.FloatFormats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The plain-Java reference kernels: one element at a time, the definitions written out. */
final class ScalarKernels implements Kernels {
    static final ScalarKernels INSTANCE = new ScalarKernels();

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** √(2/π), the constant of the tanh GELU (Hendrycks &amp; Gimpel 2016, eq. 2). */
    static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);
    static final float GELU_TANH_CUBIC = 0.044715f;

    private ScalarKernels() {}

    @Override
    public String name() {
        return "scalar";
    }

    static float element(MemorySegment w, DType dtype, long i) {
        return switch (dtype) {
            case F32 -> w.getAtIndex(F32, i);
            case BF16 -> FloatFormats.bf16ToFloat(w.getAtIndex(I16, i));
            case F16 -> FloatFormats.f16ToFloat(w.getAtIndex(I16, i));
            default -> throw new IllegalArgumentException("weights in " + dtype + " are not F32, BF16 or F16");
        };
    }

    @Override
    public float dot(MemorySegment w, DType dtype, long elementOffset, float[] x, int xOff, int n) {
        float sum = 0;
        for (int k = 0; k < n; k++) sum += element(w, dtype, elementOffset + k) * x[xOff + k];
        return sum;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float sum = 0;
        for (int k = 0; k < n; k++) sum += a[aOff + k] * b[bOff + k];
        return sum;
    }

    @Override
    public void toFloat(MemorySegment w, DType dtype, long elementOffset, float[] out, int outOff, int n) {
        for (int k = 0; k < n; k++) out[outOff + k] = element(w, dtype, elementOffset + k);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int k = 0; k < n; k++) y[yOff + k] += alpha * x[xOff + k];
    }

    @Override
    public void add(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int k = 0; k < n; k++) y[yOff + k] += x[xOff + k];
    }

    @Override
    public void rmsNorm(float[] x, int off, int n, float[] weight, float eps, float[] out, int outOff) {
        float ss = 0;
        for (int k = 0; k < n; k++) ss += x[off + k] * x[off + k];
        float inv = (float) (1 / Math.sqrt(ss / n + eps));
        for (int k = 0; k < n; k++) out[outOff + k] = weight[k] * (x[off + k] * inv);
    }

    @Override
    public void layerNorm(float[] x, int off, int n, float[] weight, float[] bias, float eps, float[] out, int outOff) {
        float mean = 0;
        for (int k = 0; k < n; k++) mean += x[off + k];
        mean /= n;
        float var = 0;
        for (int k = 0; k < n; k++) {
            float d = x[off + k] - mean;
            var += d * d;
        }
        float inv = (float) (1 / Math.sqrt(var / n + eps));
        for (int k = 0; k < n; k++) {
            float v = (x[off + k] - mean) * inv;
            out[outOff + k] = weight == null ? v + (bias == null ? 0 : bias[k]) : v * weight[k] + (bias == null ? 0 : bias[k]);
        }
    }

    static float silu(float v) {
        return (float) (v / (1 + Math.exp(-v)));
    }

    @Override
    public void siluMul(float[] gate, float[] up, int off, int n) {
        for (int k = off; k < off + n; k++) gate[k] = silu(gate[k]) * up[k];
    }

    @Override
    public void silu(float[] x, int off, int n) {
        for (int k = off; k < off + n; k++) x[k] = silu(x[k]);
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        for (int k = off; k < off + n; k++) x[k] = (float) (0.5 * x[k] * (1 + Erf.erf(x[k] / Math.sqrt(2))));
    }

    static float geluTanh(float v) {
        return (float) (0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + GELU_TANH_CUBIC * v * v * v))));
    }

    @Override
    public void geluTanh(float[] x, int off, int n) {
        for (int k = off; k < off + n; k++) x[k] = geluTanh(x[k]);
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int k = off; k < off + n; k++) max = Math.max(max, x[k]);
        float sum = 0;
        for (int k = off; k < off + n; k++) {
            x[k] = (float) Math.exp(x[k] - max);
            sum += x[k];
        }
        float inv = 1 / sum;
        for (int k = off; k < off + n; k++) x[k] *= inv;
    }

    @Override
    public float absMax(float[] x, int off, int n) {
        float max = 0;
        for (int i = off; i < off + n; i++) max = Math.max(max, Math.abs(x[i]));
        return max;
    }

    @Override
    public void bucketize(float[] x, int off, int n, float scale, float divisor, float[] midpoints, byte[] out, int outOff) {
        for (int i = 0; i < n; i++) {
            float v = Math.clamp(Float.isNaN(divisor) ? x[off + i] * scale : x[off + i] / divisor, -1f, 1f);
            int count = 0;
            for (float m : midpoints) if (v > m) count++;
            out[outOff + i] = (byte) count;
        }
    }

    @Override
    public void rope(float[] x, int off, int headDim, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float x1 = x[off + i], x2 = x[off + half + i];
            x[off + i] = x1 * cos[i] - x2 * sin[i];
            x[off + half + i] = x2 * cos[i] + x1 * sin[i];
        }
    }
}
