package dev.qload.core.load;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.module.Module;
import dev.qload.core.spi.Quantizer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A loaded model and everything it owns: the arena of its allocated tensors and, when weights
 * are zero-copy views, the file mappings. {@link #close()} frees both; a second close does nothing;
 * using the model after close is a {@link QLoadException} ({@code qload/ModelClosed}), never a crash.
 */
public final class LoadedModel implements AutoCloseable {
    private final Module root;
    private final ModelConfig config;
    private final Quantizer quantizer;
    private final LoadReport report;
    private final ModelArena arena;
    private final Checkpoint mappings; // null when nothing refers to the files any more
    private final AtomicBoolean closed = new AtomicBoolean();

    LoadedModel(Module root, ModelConfig config, Quantizer quantizer, LoadReport report, ModelArena arena, Checkpoint mappings) {
        this.root = root;
        this.config = config;
        this.quantizer = quantizer;
        this.report = report;
        this.arena = arena;
        this.mappings = mappings;
    }

    /** The module tree; its tensors are valid until {@link #close()}. */
    public Module root() {
        ensureOpen();
        return root;
    }

    public ModelConfig config() {
        return config;
    }

    public Optional<Quantizer> quantizer() {
        return Optional.ofNullable(quantizer);
    }

    public LoadReport report() {
        return report;
    }

    public boolean isClosed() {
        return closed.get();
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new QLoadException(Problem.of(ErrorId.MODEL_CLOSED, "the model loaded from " + report.checkpoint() + " was closed; load it again"));
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        arena.close();
        if (mappings != null) mappings.close();
    }
}
