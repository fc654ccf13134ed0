package dev.qload.quantizers.gptq;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.load.Loader;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.spi.CalibratedQuantizer;
import dev.qload.core.spi.CalibrationRunner;
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
import java.util.Optional;
import java.util.Set;

/**
 * GPTQ (AutoGPTQ / GPTQModel checkpoints, {@code quant_method: "gptq"}).
 *
 * <p>Pre-quantized: every {@link Linear} for which the checkpoint holds {@code P.qweight} becomes a
 * {@link GptqLinear} on META, its slot shapes checked against the checkpoint headers; the packed
 * tensors then land zero-copy. Linears without {@code P.qweight} (outside
 * {@code modules_in_block_to_quantize}, or lm_head) stay dense.
 *
 * <p>Quantize-on-load is round-to-nearest: GPTQ without calibration data (its loop with no error
 * feedback), for the linear layers inside the repeated blocks only, as optimum's GPTQ quantizer
 * selects them. {@link #quantizeWithCalibration} runs the GPTQ algorithm itself.
 */
final class GptqQuantizer implements CalibratedQuantizer {
    static final String NAME = "gptq";

    private final GptqConfig config;
    private final List<String> warnings = new ArrayList<>();

    GptqQuantizer(GptqConfig config) {
        this.config = config;
    }

    GptqConfig config() {
        return config;
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
        if (!cfg.preQuantized()) {
            if (config.descAct()) {
                // act-order visits columns by decreasing Hessian diagonal: without calibration data there is none.
                throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID,
                        "GPTQ desc_act needs calibration data; quantize with `qload quantize DIR --method gptq --calibration FILE` instead of on load"));
            }
            for (String path : BlockLinears.find(root, config.modulesInBlockToQuantize())) {
                Linear linear = (Linear) root.find(path);
                root.replace(path, emptyFor(linear));
            }
            return;
        }
        CheckpointView view = cfg.checkpoint();
        for (var e : new ArrayList<>(root.namedModules().entrySet())) {
            String path = e.getKey();
            if (!(e.getValue() instanceof Linear linear) || path.isEmpty()) continue;
            if (!view.names().contains(path + ".qweight")) continue;
            root.replace(path, build(path, linear, view));
        }
    }

    private GptqLinear build(String path, Linear linear, CheckpointView view) {
        long in = linear.inFeatures(), out = linear.outFeatures();
        int bits = config.bits();
        long groups = config.groups(in);
        String qweight = path + ".qweight", qzeros = path + ".qzeros", scales = path + ".scales", gIdx = path + ".g_idx", bias = path + ".bias";
        if (in * bits % 32 != 0) throw invalid(qweight, "in_features " + in + " × " + bits + " bits is not a whole number of 32-bit words");
        if (out * bits % 32 != 0) throw invalid(qzeros, "out_features " + out + " × " + bits + " bits is not a whole number of 32-bit words");
        requireTensor(view, qweight, DType.I32, Shape.of(in * bits / 32, out));
        requireTensor(view, qzeros, DType.I32, Shape.of(groups, out * bits / 32));
        TensorInfo s = view.info(scales).orElseThrow(() -> invalid(scales, "the GPTQ checkpoint has '" + qweight + "' but no '" + scales + "'"));
        if (s.dtype() != DType.F16 && s.dtype() != DType.BF16 && s.dtype() != DType.F32) {
            throw new LoadException(new Problem(ErrorId.TENSOR_DTYPE_MISMATCH, "GPTQ scales must be F16 (or BF16/F32); the checkpoint has " + s.dtype(), null, scales, -1));
        }
        requireShape(scales, s, Shape.of(groups, out));
        boolean hasGIdx = view.names().contains(gIdx);
        if (hasGIdx) requireTensor(view, gIdx, DType.I32, Shape.of(in));
        Optional<TensorInfo> b = view.info(bias);
        boolean hasBias = linear.hasBias() || b.isPresent();
        DType biasDtype = b.map(TensorInfo::dtype).orElse(linear.hasBias() ? linear.bias().dtype() : DType.F16);
        if (b.isPresent()) requireShape(bias, b.get(), Shape.of(out));
        return new GptqLinear(config, in, out, groups, s.dtype(), hasGIdx, hasBias, biasDtype);
    }

    @Override
    public void quantizeWithCalibration(Module root, CalibrationRunner calibration) {
        new GptqCalibration(this, config).run(root, calibration);
    }

    /** A GptqLinear with the shape of {@code linear}, to be filled by quantization. */
    GptqLinear emptyFor(Linear linear) {
        long in = linear.inFeatures(), out = linear.outFeatures();
        int bits = config.bits();
        if (in * bits % 32 != 0 || out * bits % 32 != 0) {
            throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID, "GPTQ " + bits + "-bit packing needs in_features and out_features × "
                    + bits + " to be multiples of 32; a Linear has " + in + " → " + out));
        }
        DType biasDtype = linear.hasBias() ? linear.bias().dtype() : DType.F16;
        return MetaDevice.withMetaDevice(() -> new GptqLinear(config, in, out, config.groups(in), DType.F16, true, linear.hasBias(), biasDtype));
    }

    @Override
    public TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
        if (owner instanceof GptqLinear g && localName.equals("weight")) {
            Shape expected = Shape.of(g.outFeatures(), g.inFeatures());
            if (!source.dtype().isConvertibleFloat() || source.dtype() == DType.F64 || !source.shape().equals(expected)) {
                throw new LoadException(new Problem(ErrorId.TENSOR_SHAPE_MISMATCH, "GPTQ quantizes a dense float weight of shape " + expected
                        + "; the checkpoint has " + source.dtype() + " " + source.shape(), null, key, -1));
            }
            return new TensorAction.Quantize(GptqLinear.PACKED_SLOTS, g::quantizeFrom);
        }
        return TensorAction.COPY;
    }

    private static void requireTensor(CheckpointView view, String key, DType dtype, Shape shape) {
        TensorInfo info = view.info(key).orElseThrow(() -> invalid(key, "the GPTQ checkpoint lacks '" + key + "'"));
        if (info.dtype() != dtype) {
            throw new LoadException(new Problem(ErrorId.TENSOR_DTYPE_MISMATCH, "GPTQ expects " + dtype + " for '" + key + "'; the checkpoint has " + info.dtype(),
                    null, key, -1));
        }
        requireShape(key, info, shape);
    }

    private static void requireShape(String key, TensorInfo info, Shape expected) {
        if (!info.shape().equals(expected)) {
            throw new LoadException(new Problem(ErrorId.TENSOR_SHAPE_MISMATCH, "GPTQ expects shape " + expected + " for '" + key + "'; the checkpoint has "
                    + info.shape(), null, key, -1));
        }
    }

    static LoadException invalid(String key, String message) {
        return new LoadException(new Problem(ErrorId.INVALID_QUANT_STATE, message, null, key, -1));
    }

    @Override
    public void afterLoad(Module root) {
        List<GptqLinear> layers = new ArrayList<>();
        for (var e : root.namedModules().entrySet()) if (e.getValue() instanceof GptqLinear g) layers.add(g);
        detectV2ZerosUnderV1Label(layers);
        for (var e : root.namedModules().entrySet()) {
            if (e.getValue() instanceof GptqLinear g) g.validate(e.getKey());
        }
    }

    /**
     * A symmetric 4-bit checkpoint stores zero 8 as field 7 in v1 ("gptq") and as 8 in gptq_v2.
     * Some tools write v2 fields under a v1 label; read as v1, every weight would be off by one
     * scale. When every field of every layer is 8 the label is unambiguously wrong: read them as
     * v2 and say so. (Other widths and asymmetric zeros leave no such tell.)
     */
    private void detectV2ZerosUnderV1Label(List<GptqLinear> layers) {
        if (config.v2() || !config.sym() || config.bits() != 4 || layers.isEmpty()) return;
        for (GptqLinear g : layers) if (!g.allZeroFieldsAre(8)) return;
        layers.forEach(GptqLinear::readZerosAsV2);
        warnings.add("GPTQ checkpoint says checkpoint_format \"gptq\" (v1, symmetric zero stored as 7) but every qzeros field is 8, "
                + "the gptq_v2 encoding: reading the zero-points as v2");
    }

    @Override
    public List<String> loadWarnings() {
        return List.copyOf(warnings);
    }

    @Override
    public void dequantize(Module root) {
        for (var e : new ArrayList<>(root.namedModules().entrySet())) {
            if (e.getValue() instanceof GptqLinear g) root.replace(e.getKey(), dense(g));
        }
    }

    /** A dense F32 Linear holding the dequantized weight (and the bias), built on META then filled. */
    private static Linear dense(GptqLinear g) {
        float[] weight = g.dequantize();
        long out = g.outFeatures(), in = g.inFeatures();
        boolean bias = g.hasBias();
        Linear linear = MetaDevice.withMetaDevice(() -> new Linear(in, out, bias, DType.F32));
        Tensor w = Tensor.allocate(Shape.of(out, in), DType.F32, Arena.ofAuto());
        for (int i = 0; i < weight.length; i++) w.setFloat(i, weight[i]);
        linear.slot("weight").set(w);
        if (bias) {
            Tensor src = g.slot("bias").get();
            Tensor bt = Tensor.allocate(Shape.of(out), DType.F32, Arena.ofAuto());
            for (int i = 0; i < out; i++) bt.setFloat(i, src.getFloat(i));
            linear.slot("bias").set(bt);
        }
        return linear;
    }

    @Override
    public Map<String, Tensor> checkpointState(Module root) {
        return root.stateDict();
    }

    @Override
    public Map<String, Object> quantizationConfig() {
        return config.toJson();
    }

    /** AutoGPTQ's {@code from_quantized} reads quantize_config.json ({@code BaseQuantizeConfig.save_pretrained}'s fields). */
    @Override
    public Map<String, Object> sidecarJsonFiles() {
        Map<String, Object> autoGptq = new java.util.LinkedHashMap<>(config.toJson());
        autoGptq.remove("format");
        autoGptq.remove("modules_in_block_to_quantize");
        autoGptq.put("model_name_or_path", null);
        autoGptq.put("model_file_base_name", "model");
        return Map.of(Loader.AUTOGPTQ_QUANTIZE_CONFIG, autoGptq);
    }
}
