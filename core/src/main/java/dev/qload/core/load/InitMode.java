package dev.qload.core.load;

/** How the model skeleton is built before weights land. */
public enum InitMode {
    /** On the meta device: shapes and dtypes only, zero bytes, zero random numbers. The default. */
    META,
    /**
     * Eagerly, as PyTorch does without meta: every tensor allocated and randomly initialised, then
     * overwritten by the checkpoint. Kept as the baseline that benchmarks measure meta loading against.
     */
    EAGER
}
