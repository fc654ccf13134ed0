package dev.qload.tests.toy;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.module.Module;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A {@code Linear [out, in]} in the toy int8 format: blocks of B along each row, nb = ceil(in / B).
 *
 * <pre>
 * weight           I8  [out, in]   q = round(w / scale), in [−127, 127]
 * weight.scale     F32 [out, nb]   absmax of the block / 127 (0 for an all-zero block)
 * weight.codebook  F32 [256]       non-persistent: codebook[q &amp; 0xFF] = q (the identity here;
 *                                  a codebook format would keep its levels there)
 * bias             dtype [out]     optional, as the dense layer had it
 * w ≈ codebook[q &amp; 0xFF] · scale[row, col / B]
 * </pre>
 */
final class ToyInt8Linear extends Module implements LinearForward {
    private final int in, out, blocksize;
    private final boolean hasBias;
    private final Flaw flaw;
    private final Supplier<RuntimeException> forwardNotSupported;

    ToyInt8Linear(long in, long out, int blocksize, boolean bias, DType biasDtype, Flaw flaw, Supplier<RuntimeException> forwardNotSupported) {
        this.in = Math.toIntExact(in);
        this.out = Math.toIntExact(out);
        this.blocksize = blocksize;
        this.hasBias = bias;
        this.flaw = flaw;
        this.forwardNotSupported = forwardNotSupported;
        registerParameter("weight", Tensor.empty(Shape.of(out, in), DType.I8));
        Shape scales = Shape.of(out, blocks());
        registerPersistentBuffer("weight.scale", flaw == Flaw.ALLOCATES_ON_META
                ? Tensor.allocate(scales, DType.F32, Arena.ofAuto()) : Tensor.empty(scales, DType.F32), null);
        Tensor codebook = registerNonPersistentBuffer("weight.codebook", Tensor.empty(Shape.of(256), DType.F32),
                flaw == Flaw.BUFFER_NOT_REINITIALISED ? target -> { } : ToyInt8Linear::fillCodebook);
        if (!codebook.isMeta()) fillCodebook(codebook);
        if (bias) registerParameter("bias", Tensor.empty(Shape.of(out), biasDtype));
    }

    private static void fillCodebook(Tensor target) {
        for (int b = 0; b < 256; b++) target.setFloat(b, (byte) b);
    }

    int blocks() {
        return (in + blocksize - 1) / blocksize;
    }

    /** Quantizes a dense [out, in] weight (a view of the mapped file) into {@code weight} and {@code weight.scale}. */
    void quantizeFrom(Tensor dense, Map<String, Tensor> targets) {
        Tensor q = targets.get("weight"), scale = targets.get("weight.scale");
        int coded = flaw == Flaw.DROPPED_LAST_BLOCK ? in / blocksize : blocks();
        for (int r = 0; r < out; r++) {
            for (int b = 0; b < coded; b++) {
                int from = b * blocksize, to = Math.min(in, from + blocksize);
                float max = 0;
                for (int c = from; c < to; c++) max = Math.max(max, Math.abs(dense.getFloat((long) r * in + c)));
                float s = max / 127f;
                scale.setFloat((long) r * blocks() + b, flaw == Flaw.WRONG_SCALE ? max / 255f : s);
                for (int c = from; c < to; c++) {
                    int v = s == 0 ? 0 : Math.clamp(Math.round(dense.getFloat((long) r * in + c) / s), -127, 127);
                    q.data().set(ValueLayout.JAVA_BYTE, (long) r * in + c, (byte) v);
                }
            }
        }
    }

    /** The dense weight, F32 [out, in]. */
    float[] dequantize() {
        Tensor q = slot("weight").get(), scale = slot("weight.scale").get(), codebook = slot("weight.codebook").get();
        float[] w = new float[out * in];
        for (int r = 0; r < out; r++) {
            for (int c = 0; c < in; c++) {
                int code = q.data().get(ValueLayout.JAVA_BYTE, (long) r * in + c) & 0xFF;
                w[r * in + c] = codebook.getFloat(code) * scale.getFloat((long) r * blocks() + c / blocksize);
            }
        }
        return w;
    }

    boolean hasBias() {
        return hasBias;
    }

    @Override
    public long inFeatures() {
        return in;
    }

    @Override
    public long outFeatures() {
        return out;
    }

    @Override
    public void forward(Kernels kernels, float[] x, int tokens, float[] y) {
        if (flaw == Flaw.WITHOUT_FORWARD) throw forwardNotSupported.get();
        if (flaw == Flaw.WRONG_NOT_SUPPORTED_ERROR) throw new UnsupportedOperationException("toy-int8 has no forward pass");
        float[] w = dequantize();
        float[] bias = hasBias ? slot("bias").get().toFloatArray() : null;
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < out; r++) y[t * out + r] = kernels.dot(w, r * in, x, t * in, in) + (bias == null ? 0 : bias[r]);
        }
    }
}
