package dev.qload.core.kernel;

import dev.qload.core.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels: SIMD body, scalar tail (the tail is the {@link ScalarKernels} code).
 * The only class that touches {@code jdk.incubator.vector}; {@link KernelSelection} loads it only
 * when that module is present.
 *
 * <p>16-bit weights are widened inside the loop, never copied: BF16 is the upper half of an F32,
 * so a zero-extended lane shifted left by 16 is the float's bits. F16 lanes become floats by moving
 * exponent and mantissa 13 bits up and multiplying by 2^112 (which rebiases the exponent from 15 to
 * 127 and handles subnormals exactly), with Inf/NaN patched by a blend.
 */
final class VectorKernels implements Kernels {
    static final VectorKernels INSTANCE = new VectorKernels();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** As many byte lanes as F has float lanes: the bucket counts narrowed for storing (issue 10). */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4));
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Lane i ↔ lane i ^ s for s = L/2, L/4, ..., 1: the fixed pairwise order in which {@link #sum} adds lanes. */
    private static final VectorShuffle<Float>[] BUTTERFLY = butterfly();

    private VectorKernels() {}

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] butterfly() {
        VectorShuffle<Float>[] steps = new VectorShuffle[Integer.numberOfTrailingZeros(L)];
        for (int i = 0, s = L / 2; s > 0; i++, s /= 2) {
            int step = s;
            steps[i] = VectorShuffle.fromOp(F, lane -> lane ^ step);
        }
        return steps;
    }

    /**
     * Σ of the lanes in a fixed pairwise order. Not {@code reduceLanes(ADD)}: its order is left to
     * the JIT, so the interpreter's fallback and C2's code round differently and the same dot
     * product changed its last bits once compiled.
     */
    private static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : BUTTERFLY) v = v.add(v.rearrange(s));
        return v.lane(0);
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    /** L weights from element {@code i} of {@code w}, widened to F32. */
    private static FloatVector load(MemorySegment w, DType dtype, long i) {
        return switch (dtype) {
            case F32 -> FloatVector.fromMemorySegment(F, w, i * 4, LE);
            case BF16 -> widen16(w, i).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            case F16 -> f16ToFloat(widen16(w, i).and(0xFFFF));
            default -> throw new IllegalArgumentException("weights in " + dtype + " are not F32, BF16 or F16");
        };
    }

    private static IntVector widen16(MemorySegment w, long i) {
        return (IntVector) ShortVector.fromMemorySegment(S, w, i * 2, LE).convertShape(VectorOperators.S2I, I, 0);
    }

    private static FloatVector f16ToFloat(IntVector h) {
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector shifted = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> infOrNan = shifted.compare(VectorOperators.GE, 0x7C00 << 13);
        return finite.blend(shifted.or(0x7F800000), infOrNan).or(sign).reinterpretAsFloats();
    }

    @Override
    public float dot(MemorySegment w, DType dtype, long elementOffset, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int k = 0;
        for (; k <= n - 2 * L; k += 2 * L) {
            acc0 = load(w, dtype, elementOffset + k).fma(FloatVector.fromArray(F, x, xOff + k), acc0);
            acc1 = load(w, dtype, elementOffset + k + L).fma(FloatVector.fromArray(F, x, xOff + k + L), acc1);
        }
        for (; k <= n - L; k += L) acc0 = load(w, dtype, elementOffset + k).fma(FloatVector.fromArray(F, x, xOff + k), acc0);
        float sum = sum(acc0.add(acc1));
        for (; k < n; k++) sum += ScalarKernels.element(w, dtype, elementOffset + k) * x[xOff + k];
        return sum;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int k = 0;
        for (; k <= n - L; k += L) acc = FloatVector.fromArray(F, a, aOff + k).fma(FloatVector.fromArray(F, b, bOff + k), acc);
        float sum = sum(acc);
        for (; k < n; k++) sum += a[aOff + k] * b[bOff + k];
        return sum;
    }

    @Override
    public void toFloat(MemorySegment w, DType dtype, long elementOffset, float[] out, int outOff, int n) {
        // One loop per dtype, each with its own widening inlined: with the dtype switch inside one
        // shared loop, a JVM that had widened F32 first compiled the F16 case poorly (issue 10's load
        // matrix: NF4 from an F16 checkpoint at 1.51x the read floor alone, 2.24x after an F32 load).
        int k = switch (dtype) {
            case F32 -> toFloatF32(w, elementOffset, out, outOff, n);
            case BF16 -> toFloatBf16(w, elementOffset, out, outOff, n);
            case F16 -> toFloatF16(w, elementOffset, out, outOff, n);
            default -> throw new IllegalArgumentException("weights in " + dtype + " are not F32, BF16 or F16");
        };
        for (; k < n; k++) out[outOff + k] = ScalarKernels.element(w, dtype, elementOffset + k);
    }

    /** The vector part of {@link #toFloat} for F32; returns how many elements it did. */
    private static int toFloatF32(MemorySegment w, long elementOffset, float[] out, int outOff, int n) {
        int k = 0;
        for (; k <= n - L; k += L) FloatVector.fromMemorySegment(F, w, (elementOffset + k) * 4, LE).intoArray(out, outOff + k);
        return k;
    }

    private static int toFloatBf16(MemorySegment w, long elementOffset, float[] out, int outOff, int n) {
        int k = 0;
        for (; k <= n - L; k += L) widen16(w, elementOffset + k).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, outOff + k);
        return k;
    }

    private static int toFloatF16(MemorySegment w, long elementOffset, float[] out, int outOff, int n) {
        int k = 0;
        for (; k <= n - L; k += L) f16ToFloat(widen16(w, elementOffset + k).and(0xFFFF)).intoArray(out, outOff + k);
        return k;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int k = 0;
        for (; k <= n - L; k += L) {
            FloatVector.fromArray(F, x, xOff + k).fma(FloatVector.broadcast(F, alpha), FloatVector.fromArray(F, y, yOff + k)).intoArray(y, yOff + k);
        }
        for (; k < n; k++) y[yOff + k] += alpha * x[xOff + k];
    }

    @Override
    public void add(float[] x, int xOff, float[] y, int yOff, int n) {
        int k = 0;
        for (; k <= n - L; k += L) FloatVector.fromArray(F, x, xOff + k).add(FloatVector.fromArray(F, y, yOff + k)).intoArray(y, yOff + k);
        for (; k < n; k++) y[yOff + k] += x[xOff + k];
    }

    private static float sumOfSquares(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(F);
        int k = 0;
        for (; k <= n - L; k += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + k);
            acc = v.fma(v, acc);
        }
        float ss = sum(acc);
        for (; k < n; k++) ss += x[off + k] * x[off + k];
        return ss;
    }

    @Override
    public void rmsNorm(float[] x, int off, int n, float[] weight, float eps, float[] out, int outOff) {
        float inv = (float) (1 / Math.sqrt(sumOfSquares(x, off, n) / n + eps));
        int k = 0;
        for (; k <= n - L; k += L) {
            FloatVector.fromArray(F, x, off + k).mul(inv).mul(FloatVector.fromArray(F, weight, k)).intoArray(out, outOff + k);
        }
        for (; k < n; k++) out[outOff + k] = weight[k] * (x[off + k] * inv);
    }

    @Override
    public void layerNorm(float[] x, int off, int n, float[] weight, float[] bias, float eps, float[] out, int outOff) {
        FloatVector acc = FloatVector.zero(F);
        int k = 0;
        for (; k <= n - L; k += L) acc = acc.add(FloatVector.fromArray(F, x, off + k));
        float mean = sum(acc);
        for (; k < n; k++) mean += x[off + k];
        mean /= n;
        FloatVector m = FloatVector.broadcast(F, mean);
        acc = FloatVector.zero(F);
        for (k = 0; k <= n - L; k += L) {
            FloatVector d = FloatVector.fromArray(F, x, off + k).sub(m);
            acc = d.fma(d, acc);
        }
        float var = sum(acc);
        for (; k < n; k++) var += (x[off + k] - mean) * (x[off + k] - mean);
        float inv = (float) (1 / Math.sqrt(var / n + eps));
        for (k = 0; k <= n - L; k += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + k).sub(m).mul(inv);
            if (weight != null) v = v.mul(FloatVector.fromArray(F, weight, k));
            if (bias != null) v = v.add(FloatVector.fromArray(F, bias, k));
            v.intoArray(out, outOff + k);
        }
        for (; k < n; k++) {
            float v = (x[off + k] - mean) * inv;
            out[outOff + k] = (weight == null ? v : v * weight[k]) + (bias == null ? 0 : bias[k]);
        }
    }

    private static FloatVector silu(FloatVector v) {
        return v.div(exp(v.neg()).add(1f));
    }

    // Cephes expf (cephes/single/expf.c): e^x = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2
    // split in two parts (C1 exact in few bits), e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2.
    private static final float LOG2E = 1.44269504088896341f, EXP_C1 = 0.693359375f, EXP_C2 = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5·2²³: adding and subtracting it rounds to an integer (half to even)

    /**
     * e^x lane-wise from operations IEEE 754 defines exactly (fma, add, mul, conversions, shifts).
     * Not {@code lanewise(EXP)}: C2 compiles that to a vector math library while the code before
     * compilation calls Math.exp per lane, and the two may differ in the last bit, so a forward
     * pass gave different logits (by ~1e-6) before and after the JIT warmed up. Inputs are clamped
     * to [−104, 89] (beyond which e^x is 0 or ∞ in F32), and 2^n is applied as two factors so that
     * each stays a normal float over that range.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-104f).min(89f);
        FloatVector n = xc.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -EXP_C1), xc);
        r = n.fma(FloatVector.broadcast(F, -EXP_C2), r);
        FloatVector p = r.mul(1.9875691500e-4f).add(1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector result = y.mul(s1).mul(s2);
        return result.blend(x, x.test(VectorOperators.IS_NAN)); // NaN in, NaN out
    }

    /** tanh(u) = 1 − 2 / (e^{2u} + 1), on the deterministic {@link #exp}. */
    private static FloatVector tanh(FloatVector u) {
        return FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(exp(u.mul(2f)).add(1f)));
    }

    @Override
    public void siluMul(float[] gate, float[] up, int off, int n) {
        int k = off;
        for (; k <= off + n - L; k += L) silu(FloatVector.fromArray(F, gate, k)).mul(FloatVector.fromArray(F, up, k)).intoArray(gate, k);
        for (; k < off + n; k++) gate[k] = ScalarKernels.silu(gate[k]) * up[k];
    }

    @Override
    public void silu(float[] x, int off, int n) {
        int k = off;
        for (; k <= off + n - L; k += L) silu(FloatVector.fromArray(F, x, k)).intoArray(x, k);
        for (; k < off + n; k++) x[k] = ScalarKernels.silu(x[k]);
    }

    /**
     * erf in F32 as a rational function of x², clamped to |x| ≤ 4 where erf is 1 to F32 precision.
     * Coefficients: Eigen's {@code generic_fast_erf_float} (also XLA's {@code ErfImpl32}).
     */
    private static FloatVector erf(FloatVector x) {
        x = x.max(-4f).min(4f);
        FloatVector x2 = x.mul(x);
        FloatVector p = x2.mul(-2.72614225801306e-10f).add(2.77068142495902e-08f);
        p = p.fma(x2, FloatVector.broadcast(F, -2.10102402082508e-06f));
        p = p.fma(x2, FloatVector.broadcast(F, -5.69250639462346e-05f));
        p = p.fma(x2, FloatVector.broadcast(F, -7.34990630326855e-04f));
        p = p.fma(x2, FloatVector.broadcast(F, -2.95459980854025e-03f));
        p = p.fma(x2, FloatVector.broadcast(F, -1.60960333262415e-02f));
        p = p.mul(x);
        FloatVector q = x2.mul(-1.45660718464996e-05f).add(-2.13374055278905e-04f);
        q = q.fma(x2, FloatVector.broadcast(F, -1.68282697438203e-03f));
        q = q.fma(x2, FloatVector.broadcast(F, -7.37332916720468e-03f));
        q = q.fma(x2, FloatVector.broadcast(F, -1.42647390514189e-02f));
        return p.div(q);
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        float invSqrt2 = (float) (1 / Math.sqrt(2));
        int k = off;
        for (; k <= off + n - L; k += L) {
            FloatVector v = FloatVector.fromArray(F, x, k);
            v.mul(0.5f).mul(erf(v.mul(invSqrt2)).add(1f)).intoArray(x, k);
        }
        if (k < off + n) ScalarKernels.INSTANCE.gelu(x, k, off + n - k);
    }

    @Override
    public void geluTanh(float[] x, int off, int n) {
        int k = off;
        for (; k <= off + n - L; k += L) {
            FloatVector v = FloatVector.fromArray(F, x, k);
            FloatVector inner = v.mul(v).mul(v).mul(ScalarKernels.GELU_TANH_CUBIC).add(v).mul(ScalarKernels.SQRT_2_OVER_PI);
            v.mul(0.5f).mul(tanh(inner).add(1f)).intoArray(x, k);
        }
        for (; k < off + n; k++) x[k] = ScalarKernels.geluTanh(x[k]);
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int k = off;
        for (; k <= off + n - L; k += L) mv = mv.max(FloatVector.fromArray(F, x, k));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; k < off + n; k++) max = Math.max(max, x[k]);
        FloatVector sv = FloatVector.zero(F);
        for (k = off; k <= off + n - L; k += L) {
            FloatVector e = exp(FloatVector.fromArray(F, x, k).sub(max));
            e.intoArray(x, k);
            sv = sv.add(e);
        }
        float sum = sum(sv);
        for (; k < off + n; k++) {
            x[k] = (float) Math.exp(x[k] - max);
            sum += x[k];
        }
        float inv = 1 / sum;
        for (k = off; k <= off + n - L; k += L) FloatVector.fromArray(F, x, k).mul(inv).intoArray(x, k);
        for (; k < off + n; k++) x[k] *= inv;
    }

    @Override
    public float absMax(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) acc = acc.max(FloatVector.fromArray(F, x, off + i).abs());
        float max = acc.reduceLanes(VectorOperators.MAX); // max is exact in any order
        for (; i < n; i++) max = Math.max(max, Math.abs(x[off + i]));
        return max;
    }

    @Override
    public void bucketize(float[] x, int off, int n, float scale, float divisor, float[] midpoints, byte[] out, int outOff) {
        boolean divide = !Float.isNaN(divisor);
        IntVector one = IntVector.broadcast(I, 1);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            v = (divide ? v.div(divisor) : v.mul(scale)).max(-1f).min(1f);
            IntVector count = IntVector.zero(I);
            for (float m : midpoints) count = count.add(one, v.compare(VectorOperators.GT, m).cast(I));
            // narrowed to bytes in the register and stored at once, not lane by lane through an int[]
            ((ByteVector) count.convertShape(VectorOperators.I2B, B, 0)).intoArray(out, outOff + i);
        }
        if (i < n) ScalarKernels.INSTANCE.bucketize(x, off + i, n - i, scale, divisor, midpoints, out, outOff + i);
    }

    @Override
    public void rope(float[] x, int off, int headDim, float[] cos, float[] sin) {
        int half = headDim / 2;
        int i = 0;
        for (; i <= half - L; i += L) {
            FloatVector x1 = FloatVector.fromArray(F, x, off + i), x2 = FloatVector.fromArray(F, x, off + half + i);
            FloatVector c = FloatVector.fromArray(F, cos, i), s = FloatVector.fromArray(F, sin, i);
            x1.mul(c).sub(x2.mul(s)).intoArray(x, off + i);
            x2.mul(c).add(x1.mul(s)).intoArray(x, off + half + i);
        }
        for (; i < half; i++) {
            float x1 = x[off + i], x2 = x[off + half + i];
            x[off + i] = x1 * cos[i] - x2 * sin[i];
            x[off + half + i] = x2 * cos[i] + x1 * sin[i];
        }
    }
}
