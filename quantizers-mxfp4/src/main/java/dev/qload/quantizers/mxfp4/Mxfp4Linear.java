package dev.qload.quantizers.mxfp4;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.util.List;

/**
 * A {@code Linear [out, in]} in MXFP4, a qload extension ({@code qload_quantize_linear: true}):
 * transformers quantizes only gpt-oss's experts, but the format is defined per row of an
 * nn.Linear-oriented weight, so the same codec, forward and save layout serve any Linear whose
 * input width is a multiple of 32. Tensors, named after the experts' {@code <proj>_blocks}:
 *
 * <pre>
 * weight_blocks  U8 [out, in/32, 16]     weight_scales  U8 [out, in/32]     bias  dtype [out] (optional)
 * </pre>
 */
final class Mxfp4Linear extends Module implements LinearForward {
    static final String BLOCKS = "weight" + Mxfp4Experts.BLOCKS;
    static final String SCALES = "weight" + Mxfp4Experts.SCALES;

    private final String path;
    private final Linear dense;

    Mxfp4Linear(String path, Linear original) {
        this.path = path;
        this.dense = original;
        long out = original.outFeatures(), groups = original.inFeatures() / Mxfp4Format.GROUP;
        registerParameter(BLOCKS, Tensor.empty(Shape.of(out, groups, Mxfp4Format.GROUP_BYTES), DType.U8));
        registerParameter(SCALES, Tensor.empty(Shape.of(out, groups), DType.U8));
        if (original.hasBias()) registerParameter("bias", Tensor.empty(Shape.of(out), original.bias().dtype()));
    }

    /** Whether {@code linear}'s input width can be cut into groups of 32. */
    static boolean fits(Linear linear) {
        return linear.inFeatures() % Mxfp4Format.GROUP == 0;
    }

    static List<String> quantizedSlots() {
        return List.of(BLOCKS, SCALES);
    }

    /** The dense Linear this one replaced, its tensors still on META until dequantized. */
    Linear dense() {
        return dense;
    }

    PackedWeight packed() {
        Tensor blocks = slot(BLOCKS).get(), scales = slot(SCALES).get();
        long out = scales.shape().dim(0), groups = scales.shape().dim(1);
        return PackedWeight.of(path + "." + SCALES, blocks.view(Shape.of(1, out, groups, Mxfp4Format.GROUP_BYTES)),
                scales.view(Shape.of(1, out, groups)));
    }

    @Override
    public long inFeatures() {
        return dense.inFeatures();
    }

    @Override
    public long outFeatures() {
        return dense.outFeatures();
    }

    @Override
    public void forward(Kernels k, float[] x, int tokens, float[] out) {
        new Mxfp4Projection(packed(), dense.hasBias() ? slot("bias").get() : null, 0).forward(k, x, tokens, out);
    }

    @Override
    public String typeName() {
        return "Mxfp4Linear";
    }
}
