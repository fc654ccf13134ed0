package dev.qload.quantizers.bnb;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * bitsandbytes 4-bit (NF4, FP4, nested absmax) and LLM.int8, as transformers'
 * {@code Bnb4BitHfQuantizer} / {@code Bnb8BitHfQuantizer} load and save them. Every {@link Linear}
 * not named in {@code llm_int8_skip_modules} (the output head by default) becomes a
 * {@link Linear4bit} or {@link Linear8bitLt} on META; pre-quantized tensors then land zero-copy,
 * and dense ones are quantized straight from the mapped file.
 */
final class BitsAndBytesQuantizer implements Quantizer {
    static final String NAME = "bitsandbytes";

    private final BnbConfig config;
    private final boolean preQuantized;

    BitsAndBytesQuantizer(BnbConfig config, boolean preQuantized) {
        this.config = config;
        this.preQuantized = preQuantized;
    }

    BnbConfig config() {
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
        CheckpointView view = cfg.checkpoint();
        for (var e : root.namedModules().entrySet()) {
            String path = e.getKey();
            if (!(e.getValue() instanceof Linear linear) || path.isEmpty() || config.skips(path)) continue;
            DType biasDtype = linear.hasBias() ? linear.bias().dtype() : DType.F32;
            Module replacement = config.fourBit()
                    ? new Linear4bit(fourBitState(path, linear, view), linear.hasBias(), biasDtype, config.quantStorage())
                    : eightBit(path, linear, view, biasDtype);
            root.replace(path, replacement);
        }
    }

    private QuantState fourBitState(String path, Linear linear, CheckpointView view) {
        long out = linear.outFeatures(), in = linear.inFeatures();
        if (!preQuantized) {
            DType source = view.info(path + ".weight").map(TensorInfo::dtype).filter(DType::isConvertibleFloat).orElse(DType.F32);
            return new QuantState(config.quantType(), config.blocksize(), source, out, in, config.doubleQuant(), Double.NaN);
        }
        for (QuantType type : QuantType.values()) {
            String key = path + ".weight." + QuantState.keySuffix(type);
            if (view.names().contains(key)) return QuantState.parse(view.metadataBytes(key), key, type, out, in);
        }
        throw QuantState.invalid(path + ".weight." + QuantState.keySuffix(config.quantType()),
                "the pre-quantized checkpoint has no quant state for '" + path + ".weight' (transformers requires "
                        + path + ".weight.quant_state.bitsandbytes__nf4 or __fp4)");
    }

    private Module eightBit(String path, Linear linear, CheckpointView view, DType biasDtype) {
        if (preQuantized) {
            if (!view.names().contains(path + ".SCB")) {
                throw QuantState.invalid(path + ".SCB", "the pre-quantized int8 checkpoint has no SCB for '" + path + "'");
            }
            String format = path + ".weight_format";
            if (view.names().contains(format)) {
                byte[] value = view.metadataBytes(format);
                if (value.length != 1 || value[0] != 0) {
                    throw new LoadException(new Problem(ErrorId.UNSUPPORTED_QUANT_FORMAT, "weight_format " + (value.length == 1 ? value[0] : "of "
                            + value.length + " bytes") + " is not supported; only 0 (\"row\") is (LINEAR_8BIT_WEIGHTS_FORMAT_MAPPING)", null, format, -1));
                }
            }
        }
        return new Linear8bitLt(linear.inFeatures(), linear.outFeatures(), linear.hasBias(), biasDtype, config.int8Threshold());
    }

    @Override
    public TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
        if (owner instanceof Linear4bit l4) {
            if (localName.startsWith("weight.quant_state.")) return new TensorAction.Consumed("bitsandbytes quant state, read at replacement");
            if (!preQuantized && localName.equals("weight")) {
                requireDense(key, source, Shape.of(l4.state().out(), l4.state().in()));
                return new TensorAction.Quantize(l4.quantizedSlots(), l4::quantizeFrom);
            }
        } else if (owner instanceof Linear8bitLt l8) {
            if (localName.equals("weight_format")) return new TensorAction.Consumed("int8 weight format, checked at replacement");
            if (!preQuantized && localName.equals("weight")) {
                requireDense(key, source, Shape.of(l8.outFeatures(), l8.inFeatures()));
                return new TensorAction.Quantize(List.of("weight", "SCB"), l8::quantizeFrom);
            }
        }
        return TensorAction.COPY;
    }

    private static void requireDense(String key, TensorInfo source, Shape expected) {
        if (!source.dtype().isConvertibleFloat() || source.dtype() == DType.F64 || !source.shape().equals(expected)) {
            throw new LoadException(new Problem(ErrorId.TENSOR_SHAPE_MISMATCH, "bitsandbytes quantizes a dense F32/BF16/F16 weight of shape "
                    + expected + "; the checkpoint has " + source.dtype() + " " + source.shape(), null, key, -1));
        }
    }

    @Override
    public Map<String, Tensor> checkpointState(Module root) {
        Map<String, Tensor> out = new LinkedHashMap<>(root.stateDict());
        for (var e : root.namedModules().entrySet()) {
            if (e.getValue() instanceof Linear4bit l4) {
                byte[] json = l4.state().toJson();
                Tensor t = Tensor.allocate(Shape.of(json.length), DType.U8, Arena.ofAuto());
                t.data().copyFrom(java.lang.foreign.MemorySegment.ofArray(json));
                out.put(e.getKey() + ".weight." + QuantState.keySuffix(l4.state().quantType()), t);
            } else if (e.getValue() instanceof Linear8bitLt) {
                out.put(e.getKey() + ".weight_format", Tensor.allocate(Shape.of(), DType.U8, Arena.ofAuto())); // 0 = "row"
            }
        }
        return out;
    }

    @Override
    public Map<String, Object> quantizationConfig() {
        return config.toDict();
    }

    @Override
    public void dequantize(Module root) {
        for (var e : root.namedModules().entrySet()) {
            Module m = e.getValue();
            if (m instanceof Linear4bit l4) {
                root.replace(e.getKey(), dense(l4.dequantize(), l4.state().out(), l4.state().in(), l4.state().dtype(), l4));
            } else if (m instanceof Linear8bitLt l8) {
                root.replace(e.getKey(), dense(l8.dequantize(), l8.outFeatures(), l8.inFeatures(), DType.F32, l8));
            }
        }
    }

    /** A dense Linear holding {@code weight} (and the quantized module's bias), built on META then filled. */
    private static Linear dense(float[] weight, long out, long in, DType dtype, Module quantized) {
        boolean bias = quantized.slots().containsKey("bias");
        Linear linear = MetaDevice.withMetaDevice(() -> new Linear(in, out, bias, dtype));
        Tensor w = Tensor.allocate(Shape.of(out, in), dtype, Arena.ofAuto());
        for (int i = 0; i < weight.length; i++) w.setFloat(i, weight[i]);
        linear.slot("weight").set(w);
        if (bias) linear.slot("bias").set(quantized.slot("bias").get());
        return linear;
    }
}
