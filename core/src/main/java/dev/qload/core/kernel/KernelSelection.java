package dev.qload.core.kernel;

import org.slf4j.LoggerFactory;

/**
 * Chooses the kernels once, at start-up: the Vector API twin when the {@code jdk.incubator.vector}
 * module is in the boot layer (run with {@code --add-modules jdk.incubator.vector}) and
 * {@code -Dqload.simd=false} is not set; the scalar reference otherwise.
 */
final class KernelSelection {
    static final String SIMD_PROPERTY = "qload.simd";
    static final Kernels SELECTED = select();

    private KernelSelection() {}

    private static Kernels select() {
        if (!Boolean.parseBoolean(System.getProperty(SIMD_PROPERTY, "true"))) return ScalarKernels.INSTANCE;
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            LoggerFactory.getLogger(KernelSelection.class).info("jdk.incubator.vector is not enabled; using scalar kernels");
            return ScalarKernels.INSTANCE;
        }
        return vector();
    }

    /** The SIMD kernels; only call when the Vector API module is present. */
    static Kernels vector() {
        return VectorKernels.INSTANCE;
    }
}
