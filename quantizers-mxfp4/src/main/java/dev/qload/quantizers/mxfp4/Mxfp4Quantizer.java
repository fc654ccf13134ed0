package dev.qload.quantizers.mxfp4;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.module.Module;
import dev.qload.core.nn.FusedExperts;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.spi.Capability;
import dev.qload.core.spi.CheckpointView;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.TensorAction;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MXFP4 mixture-of-experts weights, as transformers' {@code Mxfp4HfQuantizer} loads gpt-oss
 * (spec/HF-LOADING.md §3.3). Only {@link FusedExperts} modules are quantized; attention, router,
 * embeddings and head stay as they are (unless qload's {@code qload_quantize_linear} asks for
 * {@link Mxfp4Linear}s too).
 * <ul>
 *   <li><b>Pre-quantized</b> (config.json's {@code quant_method: mxfp4}): each experts module not
 *       matched by {@code modules_to_not_convert} becomes {@link Mxfp4Experts}; blocks and scales
 *       land zero-copy, the experts run from them, and every scale is checked for 0xFF once loaded.</li>
 *   <li><b>{@code dequantize: true}</b>: nothing is replaced. The dense experts' weights are decoded
 *       from {@code *_blocks} (with the {@code *_scales} beside them in the mapping) straight into
 *       their allocation, chunk by chunk; no second dense copy exists at any time.</li>
 *   <li><b>Quantize on load</b> (a dense checkpoint, {@code --quantize mxfp4}): the dense
 *       {@code gate_up_proj} / {@code down_proj} are quantized from the mapped file into blocks and
 *       scales; saving writes the shipped layout.</li>
 * </ul>
 */
final class Mxfp4Quantizer implements Quantizer {
    static final String NAME = "mxfp4";

    private final Mxfp4Config config;
    private final boolean preQuantized;
    private volatile CheckpointView checkpoint = CheckpointView.EMPTY;

    Mxfp4Quantizer(Mxfp4Config config, boolean preQuantized) {
        if (config.dequantize() && !preQuantized) {
            throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID, "mxfp4 'dequantize: true' applies to a pre-quantized checkpoint;"
                    + " a dense one is already dequantized (drop --quantize, or drop dequantize)"));
        }
        this.config = config;
        this.preQuantized = preQuantized;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<Capability> capabilities() {
        // dequantize: true loads dense experts, so dequantize() has nothing left to do (and does nothing),
        // and saving writes a dense checkpoint, as transformers' save_pretrained does after it.
        if (config.dequantize()) return Set.of(Capability.PRE_QUANTIZED_LOAD, Capability.DEQUANTIZE, Capability.SAVE);
        return Set.of(Capability.PRE_QUANTIZED_LOAD, Capability.QUANTIZE_ON_LOAD, Capability.DEQUANTIZE, Capability.SAVE, Capability.FORWARD);
    }

    @Override
    public void replaceWithQuantized(Module root, QuantizationConfig cfg) {
        checkpoint = cfg.checkpoint();
        if (config.dequantize()) return; // replace_with_mxfp4_linear returns at once: the dense experts stay
        for (var e : root.namedModules().entrySet()) {
            String path = e.getKey();
            if (path.isEmpty() || config.skips(path)) continue;
            if (e.getValue() instanceof FusedExperts experts && !(experts instanceof Mxfp4Experts)) {
                root.replace(path, new Mxfp4Experts(path, experts));
            } else if (config.quantizeLinear() && e.getValue() instanceof Linear linear && Mxfp4Linear.fits(linear)) {
                root.replace(path, new Mxfp4Linear(path, linear));
            }
        }
    }

    @Override
    public TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
        if (owner instanceof Mxfp4Experts mx && !preQuantized && isProjection(localName)) {
            requireDense(key, source, denseShape(mx, localName));
            return new TensorAction.Quantize(Mxfp4Experts.quantizedSlots(localName), (dense, targets) -> DenseToMxfp4.quantize(key, dense,
                    DenseOrientation.COLS_MAJOR, targets.get(localName + Mxfp4Experts.BLOCKS), targets.get(localName + Mxfp4Experts.SCALES)));
        }
        if (owner instanceof Mxfp4Linear linear && !preQuantized && localName.equals("weight")) {
            requireDense(key, source, Shape.of(linear.outFeatures(), linear.inFeatures()));
            return new TensorAction.Quantize(Mxfp4Linear.quantizedSlots(), (dense, targets) -> {
                Tensor scales = targets.get(Mxfp4Linear.SCALES); // [out, in/32], one "expert"
                DenseToMxfp4.quantize(key, dense, DenseOrientation.ROWS_MAJOR, targets.get(Mxfp4Linear.BLOCKS),
                        scales.view(Shape.of(1, scales.shape().dim(0), scales.shape().dim(1))));
            });
        }
        if (owner instanceof FusedExperts dense && !(owner instanceof Mxfp4Experts) && config.dequantize()) {
            if (localName.endsWith(Mxfp4Experts.SCALES) && isProjection(strip(localName, Mxfp4Experts.SCALES))) {
                return new TensorAction.Consumed("MXFP4 scales, decoded with their blocks");
            }
            if (localName.endsWith(Mxfp4Experts.BLOCKS) && isProjection(strip(localName, Mxfp4Experts.BLOCKS))) {
                return dequantizeOnLoad(key, source, dense, strip(localName, Mxfp4Experts.BLOCKS));
            }
        }
        return TensorAction.COPY;
    }

    /** Blocks (and the scales beside them) decoded into the dense module's {@code proj} slot. */
    private TensorAction dequantizeOnLoad(String key, TensorInfo blocks, FusedExperts dense, String proj) {
        Shape denseShape = denseShape(dense, proj);
        long experts = denseShape.dim(0), cols = denseShape.dim(1), rows = denseShape.dim(2);
        Shape blockShape = Shape.of(experts, rows, cols / Mxfp4Format.GROUP, Mxfp4Format.GROUP_BYTES);
        Shape scaleShape = Shape.of(experts, rows, cols / Mxfp4Format.GROUP);
        if (blocks.dtype() != DType.U8) throw wrongDtype(key, "MXFP4 blocks", blocks.dtype());
        if (!blocks.shape().equals(blockShape) || cols % Mxfp4Format.GROUP != 0) {
            throw mismatch(key, "MXFP4 blocks for a dense " + denseShape + " must be U8 " + blockShape + "; the checkpoint has "
                    + blocks.dtype() + " " + blocks.shape());
        }
        String scalesKey = strip(key, Mxfp4Experts.BLOCKS) + Mxfp4Experts.SCALES;
        TensorInfo scales = checkpoint.info(scalesKey).orElseThrow(() -> new LoadException(Problem.inFile(ErrorId.MISSING_KEY,
                "MXFP4 blocks '" + key + "' have no scales beside them: expected U8 " + scaleShape, null, scalesKey, -1)));
        if (scales.dtype() != DType.U8) throw wrongDtype(scalesKey, "MXFP4 scales", scales.dtype());
        if (!scales.shape().equals(scaleShape)) {
            throw mismatch(scalesKey, "MXFP4 scales for blocks " + blockShape + " must be U8 " + scaleShape + "; the checkpoint has "
                    + scales.dtype() + " " + scales.shape());
        }
        CheckpointView view = checkpoint;
        return new TensorAction.Quantize(List.of(proj), (packedBlocks, targets) ->
                Mxfp4ToDense.fill(PackedWeight.of(scalesKey, packedBlocks, view.mapped(scalesKey)), targets.get(proj),
                        DenseOrientation.COLS_MAJOR));
    }

    @Override
    public void afterLoad(Module root) {
        if (config.dequantize() || !preQuantized) return; // decoded or quantized here: every scale was seen on the way
        for (Module m : root.namedModules().values()) {
            if (m instanceof Mxfp4Experts mx) {
                mx.packed(FusedExperts.GATE_UP).requireNoNanScale();
                mx.packed(FusedExperts.DOWN).requireNoNanScale();
            } else if (m instanceof Mxfp4Linear linear) {
                linear.packed().requireNoNanScale();
            }
        }
    }

    @Override
    public Map<String, Object> quantizationConfig() {
        if (config.dequantize()) return null; // the model is dense: no quantization_config (transformers' remove_quantization_config)
        return config.toDict();
    }

    @Override
    public void dequantize(Module root) {
        if (config.dequantize()) return; // already dense
        for (var e : root.namedModules().entrySet()) {
            if (e.getValue() instanceof Mxfp4Linear linear) {
                root.replace(e.getKey(), denseLinear(linear));
                continue;
            }
            if (!(e.getValue() instanceof Mxfp4Experts mx)) continue;
            Module dense = mx.dense();
            for (String proj : List.of(FusedExperts.GATE_UP, FusedExperts.DOWN)) {
                Tensor meta = dense.slot(proj).get();
                Tensor weight = Tensor.allocate(meta.shape(), meta.dtype(), Arena.ofAuto());
                Mxfp4ToDense.fill(mx.packed(proj), weight, DenseOrientation.COLS_MAJOR);
                dense.slot(proj).set(weight);
                dense.slot(proj + FusedExperts.BIAS_SUFFIX).set(mx.slot(proj + FusedExperts.BIAS_SUFFIX).get());
            }
            root.replace(e.getKey(), dense);
        }
    }

    /** The replaced Linear, its weight decoded into a fresh allocation of its declared dtype, its bias handed back. */
    private static Linear denseLinear(Mxfp4Linear linear) {
        Linear dense = linear.dense();
        Tensor meta = dense.slot("weight").get();
        Tensor weight = Tensor.allocate(meta.shape(), meta.dtype(), Arena.ofAuto());
        Mxfp4ToDense.fill(linear.packed(), weight, DenseOrientation.ROWS_MAJOR);
        dense.slot("weight").set(weight);
        if (dense.hasBias()) dense.slot("bias").set(linear.slot("bias").get());
        return dense;
    }

    private static void requireDense(String key, TensorInfo source, Shape expected) {
        if (!source.dtype().isConvertibleFloat() || !source.shape().equals(expected)) {
            throw mismatch(key, "MXFP4 quantizes a dense float weight of shape " + expected + "; the checkpoint has "
                    + source.dtype() + " " + source.shape());
        }
    }

    private static boolean isProjection(String name) {
        return name.equals(FusedExperts.GATE_UP) || name.equals(FusedExperts.DOWN);
    }

    private static String strip(String name, String suffix) {
        return name.substring(0, name.length() - suffix.length());
    }

    /** The dense weight's shape in HF orientation: gate_up [E, H, 2I], down [E, I, H]. */
    private static Shape denseShape(FusedExperts experts, String proj) {
        long h = experts.hiddenSize(), i = experts.intermediateSize();
        return proj.equals(FusedExperts.GATE_UP) ? Shape.of(experts.numExperts(), h, 2 * i) : Shape.of(experts.numExperts(), i, h);
    }

    private static LoadException wrongDtype(String key, String what, DType actual) {
        return new LoadException(new Problem(ErrorId.TENSOR_DTYPE_MISMATCH, what + " must be U8; the checkpoint has " + actual, null, key, -1));
    }

    private static LoadException mismatch(String key, String message) {
        return new LoadException(Problem.inFile(ErrorId.TENSOR_SHAPE_MISMATCH, message, null, key, -1));
    }
}
