package dev.qload.core.spi;

/**
 * The plugin entry point, found with {@link java.util.ServiceLoader}: a name and a factory, in
 * the manner of Trino's {@code ConnectorFactory}. The name is HF's {@code quant_method}
 * ("bitsandbytes", "gptq", "mxfp4"): it is written into configs and never changes.
 */
public interface QuantizerProvider {
    String name();

    /** A configured quantizer; throws {@link dev.qload.core.error.ConfigException} for a bad config. */
    Quantizer create(QuantizationConfig config);
}
