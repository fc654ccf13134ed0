package dev.qload.tests.toy;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.spi.Capability;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.TensorAction;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * The toy int8 quantizer ({@link ToyInt8Linear} has the layout): small enough to read in one sitting,
 * complete enough to pass the whole conformance kit, and the base every {@link Flaw} breaks.
 * Config fields: {@code blocksize} (default 32) and {@code modules_to_not_convert} (default {@code ["lm_head"]}).
 */
final class ToyInt8Quantizer implements Quantizer {
    private final String name;
    private final Flaw flaw;
    private final boolean preQuantized;
    private final int blocksize;
    private final List<String> skip;

    ToyInt8Quantizer(String name, Flaw flaw, QuantizationConfig config) {
        this.name = name;
        this.flaw = flaw;
        this.preQuantized = config.preQuantized();
        ModelConfig f = config.fields();
        this.blocksize = f.intValue("blocksize", 32);
        if (blocksize <= 0) throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID, "blocksize must be positive, got " + blocksize));
        List<String> modules = new ArrayList<>();
        JsonNode s = f.json().get("modules_to_not_convert");
        if (s == null || s.isNull() || flaw == Flaw.IGNORES_SKIP_LIST) modules.add("lm_head");
        else for (JsonNode m : s) modules.add(m.asString());
        this.skip = List.copyOf(modules);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Set<Capability> capabilities() {
        Set<Capability> caps = EnumSet.allOf(Capability.class);
        if (flaw == Flaw.WITHOUT_FORWARD || flaw == Flaw.WRONG_NOT_SUPPORTED_ERROR) caps.remove(Capability.FORWARD);
        if (flaw == Flaw.WITHOUT_DEQUANTIZE) caps.remove(Capability.DEQUANTIZE);
        return caps;
    }

    @Override
    public void replaceWithQuantized(Module root, QuantizationConfig config) {
        for (var e : root.namedModules().entrySet()) {
            String path = e.getKey();
            if (!(e.getValue() instanceof Linear l) || skips(path)) continue;
            DType biasDtype = l.hasBias() ? l.bias().dtype() : DType.F32;
            root.replace(path, new ToyInt8Linear(l.inFeatures(), l.outFeatures(), blocksize, l.hasBias(), biasDtype, flaw,
                    () -> notSupported(Capability.FORWARD)));
        }
    }

    private boolean skips(String path) {
        for (String m : skip) if (path.equals(m) || path.endsWith("." + m)) return true;
        return false;
    }

    @Override
    public TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
        if (!preQuantized && owner instanceof ToyInt8Linear t && localName.equals("weight")) {
            return new TensorAction.Quantize(List.of("weight", "weight.scale"), t::quantizeFrom);
        }
        return TensorAction.COPY;
    }

    @Override
    public Map<String, Object> quantizationConfig() {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("quant_method", name);
        config.put("blocksize", blocksize);
        config.put("modules_to_not_convert", skip);
        return config;
    }

    @Override
    public void dequantize(Module root) {
        if (flaw == Flaw.DEQUANTIZE_DECLARED_NOT_PROVIDED || flaw == Flaw.WITHOUT_DEQUANTIZE) {
            Quantizer.super.dequantize(root);
            return;
        }
        for (var e : root.namedModules().entrySet()) {
            if (!(e.getValue() instanceof ToyInt8Linear t)) continue;
            long in = t.inFeatures(), out = t.outFeatures();
            Linear dense = MetaDevice.withMetaDevice(() -> new Linear(in, out, t.hasBias(), DType.F32));
            dense.slot("weight").set(Tensor.ofFloats(Shape.of(out, in), t.dequantize()));
            if (t.hasBias()) dense.slot("bias").set(t.slot("bias").get());
            root.replace(e.getKey(), dense);
        }
    }
}
