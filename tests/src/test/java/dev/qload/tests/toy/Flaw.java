package dev.qload.tests.toy;

/**
 * What a toy quantizer gets wrong on purpose, in the manner of Lucene's Cranky* codecs: each flaw
 * is one realistic bug, and the kit's own tests check that the right conformance check catches it.
 */
public enum Flaw {
    /** None: the reference toy, which must pass every check. */
    NONE,
    /** Correct, but without a forward pass: FORWARD undeclared, and forward() throws the exact "not supported" error. */
    WITHOUT_FORWARD,
    /** Correct, but without dequantize(): DEQUANTIZE undeclared, so the kit reads the weights back through forward(). */
    WITHOUT_DEQUANTIZE,
    /** Stores absmax / 255 as the scale (the unsigned range) while coding with absmax / 127: every weight comes back halved. */
    WRONG_SCALE,
    /** Counts blocks per row as in / blocksize, rounding down: the partial last block of an awkward row is never quantized. */
    DROPPED_LAST_BLOCK,
    /**
     * Registers its codebook as a non-persistent buffer whose initializer does nothing (the constructor
     * fills it, but only when built eagerly): core's BUFFER_WITHOUT_INITIALIZER guard is satisfied, yet
     * after a meta load the codebook is whatever the allocation held.
     */
    BUFFER_NOT_REINITIALISED,
    /** Declares DEQUANTIZE and never implements it: dequantize() is the SPI's default, "not supported". */
    DEQUANTIZE_DECLARED_NOT_PROVIDED,
    /** Leaves FORWARD undeclared, as it should, but its forward() throws UnsupportedOperationException, not the SPI's error. */
    WRONG_NOT_SUPPORTED_ERROR,
    /** Allocates its scales with Tensor.allocate while replacing modules, inside the meta scope. */
    ALLOCATES_ON_META,
    /** Reads no skip list: only lm_head stays dense, whatever modules_to_not_convert says. */
    IGNORES_SKIP_LIST
}
