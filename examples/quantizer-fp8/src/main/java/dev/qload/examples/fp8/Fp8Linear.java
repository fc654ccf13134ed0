package dev.qload.examples.fp8;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.module.Module;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * transformers' {@code FP8Linear} in its checkpoint layout (spec/FORMATS.md §5):
 *
 * <pre>
 * weight            F8_E4M3 [out, in]                          parameter, E4M3 codes, row-major
 * weight_scale_inv  F32     [ceil(out/b0), ceil(in/b1)]        persistent buffer, one multiplier per tile
 * bias              model dtype [out]                          parameter, only when the Linear had one
 * </pre>
 *
 * with {@code [b0, b1]} = {@code weight_block_size} (default 128×128; {@link Fp8Blocks} has the
 * tile arithmetic).
 *
 * <p>The forward pass is weight-only: for each output row it decodes the row tile by tile, times
 * the tile's scale, into a scratch row of {@code in} floats and takes F32 dot products with the
 * activations; no dense weight matrix is ever materialised. Activations are <b>not</b> quantized:
 * qload computes activations in F32, and the dynamic per-token, per-128-column FP8 activation
 * quantization of transformers / DeepSeek ({@code act_quant} feeding {@code w8a8_block_fp8_matmul})
 * is a detail of their GPU kernels. So qload's output is {@code x · dequant(W)ᵀ + b} in F32: what
 * transformers' CPU fallback computes after dequantizing (which also rounds the weights to the
 * model dtype), and what the GPU kernels compute up to their activation rounding.
 */
final class Fp8Linear extends Module implements LinearForward {
    /** Output rows per parallel task: each decodes a scratch row per output row. */
    private static final int ROW_GRAIN = 16;

    private final Fp8Blocks blocks;
    private final boolean hasBias;
    private volatile Tensor biasSource;
    private volatile float[] biasFloats;

    Fp8Linear(long in, long out, boolean bias, DType biasDtype, int b0, int b1) {
        this.blocks = new Fp8Blocks(out, in, b0, b1);
        this.hasBias = bias;
        registerParameter("weight", Tensor.empty(Shape.of(out, in), DType.F8_E4M3));
        registerPersistentBuffer("weight_scale_inv", Tensor.empty(Shape.of(blocks.tileRows, blocks.tileCols), DType.F32), null);
        if (bias) registerParameter("bias", Tensor.empty(Shape.of(out), biasDtype));
    }

    /** The slots a quantize-on-load fills from the dense {@code weight}. */
    static final List<String> QUANTIZED_SLOTS = List.of("weight", "weight_scale_inv");

    @Override
    public long inFeatures() {
        return blocks.in;
    }

    @Override
    public long outFeatures() {
        return blocks.out;
    }

    boolean hasBias() {
        return hasBias;
    }

    Fp8Blocks blocks() {
        return blocks;
    }

    /** The {@link dev.qload.core.spi.QuantizeKernel}: the dense checkpoint weight straight into codes and scales. */
    void quantizeFrom(Tensor dense, Map<String, Tensor> targets) {
        blocks.quantize(dense, targets.get("weight").data(), targets.get("weight_scale_inv").data());
    }

    /** The dense weight, F32 {@code [out, in]}. */
    float[] dequantize() {
        return blocks.dequantize(slot("weight").get().data(), slot("weight_scale_inv").get().data());
    }

    @Override
    public void forward(Kernels kernels, float[] x, int tokens, float[] y) {
        MemorySegment codes = slot("weight").get().data(), scaleInv = slot("weight_scale_inv").get().data();
        float[] bias = hasBias ? biasAsFloats(kernels) : null;
        int in = blocks.in, out = blocks.out;
        Parallel.forRange(out, ROW_GRAIN, (from, to) -> {
            byte[] rowCodes = new byte[in];
            float[] row = new float[in];
            for (int r = from; r < to; r++) {
                blocks.dequantizeRow(codes, scaleInv, r, rowCodes, row);
                float b = bias == null ? 0 : bias[r];
                for (int t = 0; t < tokens; t++) y[t * out + r] = kernels.dot(row, 0, x, t * in, in) + b;
            }
        });
    }

    /** The bias widened to F32 once; redone only if the loader replaced the tensor since. */
    private float[] biasAsFloats(Kernels kernels) {
        Tensor b = slot("bias").get();
        if (biasSource != b) {
            float[] f = new float[Math.toIntExact(b.elementCount())];
            kernels.toFloat(b.data(), b.dtype(), 0, f, 0, f.length);
            biasFloats = f;
            biasSource = b;
        }
        return biasFloats;
    }
}
