package dev.qload.core.spi;

import dev.qload.core.module.Module;

/**
 * Runs calibration sequences through a model as it stands at the moment of the call (modules may
 * have been replaced since the previous call, so implementations look them up anew each time).
 * A {@link CalibratedQuantizer} may abort a sequence early by throwing from inside a module's
 * forward pass; implementations must let such exceptions through unchanged.
 */
public interface CalibrationRunner {
    /** Number of calibration sequences. */
    int sequences();

    /** Runs the forward pass of sequence {@code index} through the model under {@code root}. */
    void run(Module root, int index);
}
