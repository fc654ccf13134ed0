package dev.qload.quantizers.mxfp4;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.module.Module;
import dev.qload.core.nn.FusedExperts;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.util.List;

/**
 * transformers' {@code Mxfp4GptOssExperts} with the tensors gpt-oss ships (spec/FORMATS.md §4.2),
 * E experts, hidden size H, intermediate size I:
 *
 * <pre>
 * gate_up_proj_blocks  U8 [E, 2I, H/32, 16]    gate_up_proj_scales  U8 [E, 2I, H/32]
 * gate_up_proj_bias    dtype [E, 2I]
 * down_proj_blocks     U8 [E, H, I/32, 16]     down_proj_scales     U8 [E, H, I/32]
 * down_proj_bias       dtype [E, H]
 * </pre>
 *
 * The packed tensors land zero-copy from the mapped checkpoint and the experts run from them
 * ({@link Mxfp4Projection}). It keeps the dense module it replaced (still on META, so it costs
 * nothing) to hand back, filled, when the model is dequantized.
 */
final class Mxfp4Experts extends Module implements FusedExperts {
    static final String BLOCKS = "_blocks";
    static final String SCALES = "_scales";

    private final String path;
    private final FusedExperts original;
    private final Module dense;

    Mxfp4Experts(String path, FusedExperts original) {
        this.path = path;
        this.original = original;
        this.dense = (Module) original;
        long hidden = original.hiddenSize(), intermediate = original.intermediateSize();
        if (hidden % Mxfp4Format.GROUP != 0 || intermediate % Mxfp4Format.GROUP != 0) {
            throw new LoadException(Problem.of(ErrorId.UNSUPPORTED_QUANT_FORMAT, "MXFP4 needs hidden and intermediate sizes that are multiples of "
                    + Mxfp4Format.GROUP + "; '" + path + "' has " + hidden + " and " + intermediate + " (list it in modules_to_not_convert)"));
        }
        declare(GATE_UP, 2 * intermediate, hidden);
        declare(DOWN, hidden, intermediate);
    }

    private void declare(String proj, long rows, long cols) {
        int e = original.numExperts();
        registerParameter(proj + BLOCKS, Tensor.empty(Shape.of(e, rows, cols / Mxfp4Format.GROUP, Mxfp4Format.GROUP_BYTES), DType.U8));
        registerParameter(proj + SCALES, Tensor.empty(Shape.of(e, rows, cols / Mxfp4Format.GROUP), DType.U8));
        registerParameter(proj + BIAS_SUFFIX, Tensor.empty(Shape.of(e, rows), biasDtype(proj)));
    }

    /** The dense module's bias dtype, so a dequantized model gets its biases back as they were declared. */
    private DType biasDtype(String proj) {
        return dense.slot(proj + BIAS_SUFFIX).get().dtype();
    }

    String path() {
        return path;
    }

    /** The dense module this one replaced: its slots still on META until {@link Mxfp4Quantizer#dequantize} fills them. */
    Module dense() {
        return dense;
    }

    /** The slots a quantize-on-load of {@code proj} fills from the dense checkpoint tensor. */
    static List<String> quantizedSlots(String proj) {
        return List.of(proj + BLOCKS, proj + SCALES);
    }

    PackedWeight packed(String proj) {
        return PackedWeight.of(path + "." + proj + SCALES, slot(proj + BLOCKS).get(), slot(proj + SCALES).get());
    }

    // The sizes are the replaced module's: MXFP4 changes how the experts are stored, not what they are.
    @Override
    public int numExperts() {
        return original.numExperts();
    }

    @Override
    public long hiddenSize() {
        return original.hiddenSize();
    }

    @Override
    public long intermediateSize() {
        return original.intermediateSize();
    }

    @Override
    public LinearForward gateUp(int expert) {
        return new Mxfp4Projection(packed(GATE_UP), slot(GATE_UP + BIAS_SUFFIX).get(), expert);
    }

    @Override
    public LinearForward down(int expert) {
        return new Mxfp4Projection(packed(DOWN), slot(DOWN + BIAS_SUFFIX).get(), expert);
    }

    @Override
    public String typeName() {
        return "Mxfp4GptOssExperts";
    }
}
