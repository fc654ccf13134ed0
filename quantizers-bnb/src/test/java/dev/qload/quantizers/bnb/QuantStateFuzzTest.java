package dev.qload.quantizers.bnb;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;

/**
 * Coverage-guided fuzzing (Jazzer) of the bitsandbytes quant-state parser, which reads JSON straight
 * from an untrusted checkpoint: whatever the bytes, {@link QuantState#parse} either returns a state
 * that is consistent with the Linear it belongs to and survives a round trip through
 * {@link QuantState#toJson}, or throws {@code qload/InvalidQuantState} naming the tensor. Any other
 * throwable, a hang or an out-of-memory is a finding.
 *
 * <p>The module is one Linear [64, 172] (the shape of the seeds, real bitsandbytes output from the
 * bnb fixtures) under both key suffixes. Seeds and past crashes: {@code QuantStateFuzzTestInputs/};
 * fuzzing time: {@code -Dqload.fuzz.duration} (root pom, 5 s by default).
 */
class QuantStateFuzzTest {
    private static final long OUT = 64, IN = 172;

    @FuzzTest
    void parsesOrRejectsWithInvalidQuantState(byte[] json) {
        for (QuantType fromKey : QuantType.values()) {
            String tensor = "model.layers.0.mlp.down_proj.weight." + QuantState.keySuffix(fromKey);
            QuantState state;
            try {
                state = QuantState.parse(json, tensor, fromKey, OUT, IN);
            } catch (LoadException rejected) {
                if (rejected.id() != ErrorId.INVALID_QUANT_STATE || !tensor.equals(rejected.problems().getFirst().tensor())) {
                    throw new AssertionError("a rejection must be InvalidQuantState naming the tensor: " + rejected.getMessage(), rejected);
                }
                continue;
            }
            if (state.out() != OUT || state.in() != IN || state.quantType() != fromKey || !QuantState.BLOCKSIZES.contains(state.blocksize())) {
                throw new AssertionError("accepted a state that disagrees with its module: " + state);
            }
            if (state.blocks() * state.blocksize() < state.elements() || state.packedBytes() * 2 < state.elements()) {
                throw new AssertionError("derived sizes do not cover the weight: " + state);
            }
            QuantState again = QuantState.parse(state.toJson(), tensor, fromKey, OUT, IN);
            if (!again.equals(state)) throw new AssertionError("round trip changed the state: " + state + " -> " + again);
        }
    }
}
