package dev.qload.core.spi;

import dev.qload.core.tensor.Tensor;
import java.util.Map;

/**
 * Quantizes one dense checkpoint tensor straight into its packed targets. {@code dense} is a view
 * of the mapped file (any float dtype): no dense copy is ever made. {@code targets} are freshly
 * allocated CPU tensors for the module's slots named in {@link TensorAction.Quantize#targets()}.
 */
@FunctionalInterface
public interface QuantizeKernel {
    void quantize(Tensor dense, Map<String, Tensor> targets);
}
