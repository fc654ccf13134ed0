package dev.qload.core.load;

import dev.qload.core.module.NamedSlot;
import java.util.List;

/**
 * Everything the load will do, decided before a weight byte is touched: which checkpoint tensor
 * fills which slot and how, which tensors are tied, which buffers are recomputed, and the
 * missing / unexpected / mismatched lists.
 *
 * @param initialized  slots filled by their own initializer (every non-persistent buffer, and persistent buffers the checkpoint lacks)
 * @param randomized   missing parameters filled randomly because the caller allowed it
 */
public record LoadPlan(List<PlannedLoad> loads, List<Tie> ties, List<NamedSlot> initialized, List<NamedSlot> randomized,
                       List<String> missingKeys, List<String> unexpectedKeys, List<MismatchedKey> mismatchedKeys,
                       List<String> warnings, long allocationBytes, long mappedBytes, long sourceBytes) {

    /** {@code target} will share {@code source}'s tensor. */
    public record Tie(NamedSlot target, NamedSlot source) {}
}
