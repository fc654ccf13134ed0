package dev.qload.quantizers.gptq;

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
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * GPTQ (AutoGPTQ / GPTQModel checkpoints, {@code quant_method: "gptq"}), load side only. Every
 * {@link Linear} for which the checkpoint holds {@code P.qweight} becomes a {@link GptqLinear} on
 * META, its slot shapes checked against the checkpoint headers; the packed tensors then land
 * zero-copy. Linears without {@code P.qweight} (e.g. outside {@code modules_in_block_to_quantize},
 * or lm_head) stay dense.
 */
final class GptqQuantizer implements Quantizer {
    static final String NAME = "gptq";

    private final GptqConfig config;

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
        return Set.of(Capability.PRE_QUANTIZED_LOAD, Capability.DEQUANTIZE, Capability.FORWARD);
    }

    @Override
    public void replaceWithQuantized(Module root, QuantizationConfig cfg) {
        if (!cfg.preQuantized()) throw notSupported(Capability.QUANTIZE_ON_LOAD);
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
        for (var e : root.namedModules().entrySet()) {
            if (e.getValue() instanceof GptqLinear g) g.validate(e.getKey());
        }
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
        throw notSupported(Capability.SAVE);
    }
}
