package dev.qload.quantizers.gptq;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.LinearForward;

/**
 * Stands in for a dense {@link Linear} during calibration: passes each forward call through to
 * it and feeds the call's inputs to the block's {@link CalibrationPass}, which accumulates the
 * layer's Hessian (shared with the other layers that see the same input) and may end the pass.
 */
final class HessianRecorder extends Module implements LinearForward {
    final String path;
    final Linear dense;
    private final CalibrationPass pass;
    Hessian hessian;

    HessianRecorder(String path, Linear dense, CalibrationPass pass) {
        this.path = path;
        this.dense = dense;
        this.pass = pass;
    }

    @Override
    public long inFeatures() {
        return dense.inFeatures();
    }

    @Override
    public long outFeatures() {
        return dense.outFeatures();
    }

    @Override
    public void forward(Kernels k, float[] x, int tokens, float[] y) {
        pass.record(this, x, tokens);
        dense.forward(k, x, tokens, y);
    }
}
