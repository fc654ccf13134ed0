package dev.qload.core.spi;

import dev.qload.core.module.Module;

/**
 * A quantizer that needs activations, not just weights (GPTQ): it quantizes a loaded dense model
 * in place by running calibration data through it. Implemented next to {@link Quantizer}; after
 * it returns, the model's eligible modules are quantized ones and the quantizer can save them.
 */
public interface CalibratedQuantizer extends Quantizer {
    /**
     * Quantizes the dense model under {@code root} in place, running {@code calibration} through it
     * as often as the method needs (GPTQ: once per block, with the blocks before it already quantized).
     */
    void quantizeWithCalibration(Module root, CalibrationRunner calibration);
}
