package dev.qload.examples.fp8;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.spi.Capability;
import dev.qload.core.spi.CheckpointView;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.TensorAction;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Block-wise FP8, as transformers' {@code FineGrainedFP8HfQuantizer} loads and saves it. Every
 * {@link Linear} not excluded by {@code modules_to_not_convert} (the output head always is) becomes
 * an {@link Fp8Linear} on META. A pre-quantized checkpoint then lands as it is — F8_E4M3 codes and
 * F32 scales are zero-copy views of the mapped file — and a dense one (F32, BF16, F16) is quantized
 * straight from the mapped file into codes and scales, with no dense copy.
 */
final class Fp8Quantizer implements Quantizer {
    static final String NAME = "fp8";

    private final Fp8Config config;
    private final boolean preQuantized;

    Fp8Quantizer(Fp8Config config, boolean preQuantized) {
        this.config = config;
        this.preQuantized = preQuantized;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<Capability> capabilities() {
        return Set.of(Capability.PRE_QUANTIZED_LOAD, Capability.QUANTIZE_ON_LOAD, Capability.DEQUANTIZE, Capability.SAVE, Capability.FORWARD);
    }

    @Override
    public void replaceWithQuantized(Module root, QuantizationConfig cfg) {
        CheckpointView view = cfg.checkpoint();
        List<Problem> problems = new ArrayList<>();
        for (var e : root.namedModules().entrySet()) {
            String path = e.getKey();
            if (!(e.getValue() instanceof Linear linear) || path.isEmpty() || config.skips(path)) continue;
            if (preQuantized) {
                // A dense Linear in an FP8 checkpoint that the config does not exclude: transformers would fail
                // on the dtype; say which module and what to add instead.
                String key = path + ".weight";
                var stored = view.info(key).map(TensorInfo::dtype).orElse(null);
                if (stored != null && stored != DType.F8_E4M3) {
                    problems.add(Problem.inFile(ErrorId.UNSUPPORTED_QUANT_FORMAT, "the fp8 checkpoint stores '" + key + "' as " + stored
                            + ", not F8_E4M3, but quantization_config does not exclude '" + path
                            + "'; add it to modules_to_not_convert", null, key, -1));
                    continue;
                }
            }
            DType biasDtype = linear.hasBias() ? linear.bias().dtype() : DType.F32;
            root.replace(path, new Fp8Linear(linear.inFeatures(), linear.outFeatures(), linear.hasBias(), biasDtype,
                    config.blockRows(), config.blockCols()));
        }
        if (!problems.isEmpty()) throw new LoadException(problems);
    }

    @Override
    public TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
        if (!preQuantized && owner instanceof Fp8Linear fp8 && localName.equals("weight")) {
            Shape expected = Shape.of(fp8.outFeatures(), fp8.inFeatures());
            DType dtype = source.dtype();
            if (!dtype.isConvertibleFloat() || !source.shape().equals(expected)) {
                throw new LoadException(new Problem(ErrorId.TENSOR_SHAPE_MISMATCH, "fp8 quantizes a dense F32/BF16/F16 weight of shape "
                        + expected + "; the checkpoint has " + dtype + " " + source.shape(), null, key, -1));
            }
            return new TensorAction.Quantize(Fp8Linear.QUANTIZED_SLOTS, fp8::quantizeFrom);
        }
        return TensorAction.COPY; // pre-quantized codes and scales, biases, norms, embeddings: as they are
    }

    @Override
    public Map<String, Tensor> checkpointState(Module root) {
        return root.stateDict(); // Fp8Linear's slots already carry HF's names and layout
    }

    @Override
    public Map<String, Object> quantizationConfig() {
        return config.toDict();
    }

    @Override
    public void dequantize(Module root) {
        for (var e : root.namedModules().entrySet()) {
            if (e.getValue() instanceof Fp8Linear fp8) root.replace(e.getKey(), dense(fp8));
        }
    }

    /**
     * A dense Linear holding the dequantized weight in F32 (and the same bias tensor). F32 whatever
     * the model's dtype: {@code float(code) · scale_inv} is one F32 rounding, exactly the weight
     * {@link Fp8Linear#forward} multiplies by, so dequantizing changes no output. (transformers casts
     * it on to the model dtype, a second rounding; a BF16 model can be converted with
     * {@code --dtype} after a dense save.)
     */
    private static Linear dense(Fp8Linear fp8) {
        long out = fp8.outFeatures(), in = fp8.inFeatures();
        Linear linear = MetaDevice.withMetaDevice(() -> new Linear(in, out, fp8.hasBias(), DType.F32));
        float[] weight = fp8.dequantize();
        Tensor w = Tensor.allocate(Shape.of(out, in), DType.F32, Arena.ofAuto());
        java.lang.foreign.MemorySegment.copy(weight, 0, w.data(), Fp8Blocks.F32, 0, weight.length);
        linear.slot("weight").set(w);
        if (fp8.hasBias()) linear.slot("bias").set(fp8.slot("bias").get());
        return linear;
    }
}
