package dev.qload.core.kernel;

import dev.qload.core.tensor.DType;
import java.lang.foreign.MemorySegment;

/**
 * The numeric kernels of the forward pass. Activations are {@code float[]} ranges; weights are
 * read in place from their (possibly memory-mapped) segments in F32, BF16 or F16, and every sum
 * accumulates in F32.
 *
 * <p>Two implementations: {@link ScalarKernels}, the plain-Java reference, and a Vector API twin
 * (scalar head, SIMD body, scalar tail) chosen at start-up by {@link #get()}. Tests compare them on
 * awkward lengths and extreme values.
 */
public interface Kernels {
    /** The kernels in use: SIMD unless {@code -Dqload.simd=false} or the Vector API is absent. */
    static Kernels get() {
        return KernelSelection.SELECTED;
    }

    /** The plain-Java reference implementation. */
    static Kernels scalar() {
        return ScalarKernels.INSTANCE;
    }

    String name();

    /** Σ w[elementOffset + k] · x[xOff + k] for k < n, with {@code w} in F32, BF16 or F16. */
    float dot(MemorySegment w, DType dtype, long elementOffset, float[] x, int xOff, int n);

    /** Σ a[aOff + k] · b[bOff + k] for k < n. */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** Widens {@code n} elements of {@code w} (F32, BF16, F16) from {@code elementOffset} into {@code out}. */
    void toFloat(MemorySegment w, DType dtype, long elementOffset, float[] out, int outOff, int n);

    /** y[yOff + k] += alpha · x[xOff + k]. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** y[yOff + k] += x[xOff + k]. */
    void add(float[] x, int xOff, float[] y, int yOff, int n);

    /** out = x / sqrt(mean(x²) + eps) · weight, as {@code LlamaRMSNorm} computes it in F32. */
    void rmsNorm(float[] x, int off, int n, float[] weight, float eps, float[] out, int outOff);

    /** out = (x − mean) / sqrt(var + eps) · weight + bias, the biased variance as {@code nn.LayerNorm}. */
    void layerNorm(float[] x, int off, int n, float[] weight, float[] bias, float eps, float[] out, int outOff);

    /** gate[k] = silu(gate[k]) · up[k], SwiGLU's gating ({@code act_fn(gate_proj(x)) * up_proj(x)}). */
    void siluMul(float[] gate, float[] up, int off, int n);

    /** x = x · sigmoid(x), in place. */
    void silu(float[] x, int off, int n);

    /** Exact GELU, x · Φ(x) = x/2 · (1 + erf(x/√2)), in place ({@code nn.GELU()}). */
    void gelu(float[] x, int off, int n);

    /** The tanh approximation ({@code nn.GELU(approximate="tanh")}, {@code gelu_pytorch_tanh}), in place. */
    void geluTanh(float[] x, int off, int n);

    /** Softmax over x[off, off+n), in place, max-subtracted for stability. */
    void softmax(float[] x, int off, int n);

    /** max |x[off + i]| over i &lt; n (0 for n = 0; NaN if any element is NaN), the absmax of blockwise formats. */
    float absMax(float[] x, int off, int n);

    /**
     * Bucket indices for blockwise quantizers, as {@code torch.bucketize(clamp(x · scale, −1, 1),
     * midpoints)} (or {@code x / divisor} when {@code divisor} is not NaN): out[i] = the number of
     * {@code midpoints} strictly below the scaled value. {@code midpoints} must be sorted.
     */
    void bucketize(float[] x, int off, int n, float scale, float divisor, float[] midpoints, byte[] out, int outOff);

    /**
     * Rotary embedding of one head with the rotate-half (GPT-NeoX) layout transformers uses:
     * for i &lt; d/2, (x_i, x_{i+d/2}) ← (x_i·cos_i − x_{i+d/2}·sin_i, x_{i+d/2}·cos_i + x_i·sin_i).
     * {@code cos}/{@code sin} hold d/2 values each.
     */
    void rope(float[] x, int off, int headDim, float[] cos, float[] sin);
}
