package dev.qload.timm.nn;

import dev.qload.core.module.BufferInitializer;
import java.util.Set;

/**
 * Which of timm's non-persistent buffers the modules declare with their initializer: all of them
 * ({@link #ALL}, what the architecture builds). {@link #omitting} builds the port that forgot some,
 * the bug class of transformers #48892, so tests can show that such a load fails and names the
 * buffer instead of handing out uninitialised memory.
 */
public final class RebuiltBuffers {
    public static final RebuiltBuffers ALL = new RebuiltBuffers(Set.of());

    private final Set<String> omitted;

    private RebuiltBuffers(Set<String> omitted) {
        this.omitted = omitted;
    }

    /** Declares every buffer but those with these local names ({@code attn_mask}, ...) without an initializer. */
    public static RebuiltBuffers omitting(String... names) {
        return new RebuiltBuffers(Set.of(names));
    }

    /** {@code initializer}, or null for an omitted buffer. */
    BufferInitializer initializer(String name, BufferInitializer initializer) {
        return omitted.contains(name) ? null : initializer;
    }
}
