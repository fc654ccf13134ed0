package dev.qload.core.spi;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.module.Module;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.tensor.Tensor;
import java.util.Map;
import java.util.Set;

/**
 * One quantization method, configured. The loader calls, in this order and each once:
 * {@link #replaceWithQuantized} (on META), {@link #planTensor} for every checkpoint tensor whose
 * owner module exists, then {@link #afterLoad} when every weight has landed.
 *
 * <p>Replacement modules register their tensors on META like any module, marking buffers
 * persistent or not; the core then checks that each one is loaded or initialised.
 */
public interface Quantizer {
    /** HF's {@code quant_method}. */
    String name();

    Set<Capability> capabilities();

    /** Swaps eligible modules for quantized ones. Runs inside a meta scope: it must allocate nothing. */
    void replaceWithQuantized(Module root, QuantizationConfig config);

    /**
     * How checkpoint tensor {@code key} lands in {@code owner} (the module at the key's prefix)
     * under its local name. The default copies it as it is.
     */
    default TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
        return TensorAction.COPY;
    }

    /** Runs once after every tensor is loaded and every buffer initialised. */
    default void afterLoad(Module root) {}

    /**
     * What {@link #afterLoad} found worth telling the user without failing the load (a format
     * label that the data contradicts, say); they go into the load report's warnings.
     */
    default java.util.List<String> loadWarnings() {
        return java.util.List.of();
    }

    /** Replaces quantized modules by dense ones in place. */
    default void dequantize(Module root) {
        throw notSupported(Capability.DEQUANTIZE);
    }

    /** The tensors to save, under HF's key names and layout. */
    default Map<String, Tensor> checkpointState(Module root) {
        if (!capabilities().contains(Capability.SAVE)) throw notSupported(Capability.SAVE);
        return root.stateDict();
    }

    /**
     * The {@code quantization_config} to write into a saved checkpoint's config.json, with HF's
     * field names, so that transformers (and qload) load it as pre-quantized; null when the model
     * it leaves is dense (MXFP4's {@code dequantize: true}), which saves as a plain checkpoint.
     */
    default Map<String, Object> quantizationConfig() {
        throw notSupported(Capability.SAVE);
    }

    /**
     * Extra JSON files a saved checkpoint carries next to config.json, by file name (AutoGPTQ's
     * {@code quantize_config.json}, which its loader requires); written with sorted keys.
     */
    default Map<String, Object> sidecarJsonFiles() {
        return Map.of();
    }

    /** The exact error every unsupported capability raises. */
    default PluginException notSupported(Capability capability) {
        return new PluginException(Problem.of(ErrorId.NOT_SUPPORTED,
                "quantizer '" + name() + "' does not support " + capability));
    }
}
