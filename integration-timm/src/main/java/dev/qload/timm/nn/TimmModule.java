package dev.qload.timm.nn;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.module.BufferInitializer;
import dev.qload.core.module.Module;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.Tensor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A timm module: its children are looked up when the forward pass runs, not captured at
 * construction, because a quantizer swaps {@code Linear}s for its own modules on META after the
 * tree is built (bitsandbytes' {@code Linear4bit} sits where timm's {@code nn.Linear} was).
 */
public abstract class TimmModule extends Module {
    private final Map<String, WidenedTensor> widened = new ConcurrentHashMap<>();

    /**
     * A non-persistent buffer timm recomputes in {@code _init_buffers()}: declared with its
     * initializer (unless {@code declared} leaves it out, which is how a test shows what a port that
     * forgot one would do), and, when built eagerly, computed right away, as timm's constructor does.
     */
    protected final Tensor registerRebuiltBuffer(String name, Tensor tensor, BufferInitializer initializer, RebuiltBuffers declared) {
        registerNonPersistentBuffer(name, tensor, declared.initializer(name, initializer));
        if (!tensor.isMeta()) initializer.initialize(tensor);
        return tensor;
    }

    /** The linear layer now at child {@code name}, dense or quantized. */
    protected final LinearForward linear(String name) {
        Module m = children().get(name);
        if (m instanceof LinearForward lf) return lf;
        throw new PluginException(Problem.of(ErrorId.NOT_SUPPORTED, typeName() + "." + name + " is a "
                + (m == null ? "missing module" : m.typeName()) + ", which has no linear forward pass"));
    }

    /** A child that must be present (norms, sub-blocks): the forward pass asks for it by name. */
    protected final <M extends Module> M child(String name, Class<M> type) {
        return type.cast(children().get(name));
    }

    /**
     * Tensor {@code name} widened to F32 once per loaded tensor: small per-channel parameters
     * (norm weights, biases, position embeddings) are read by every image, so they are converted
     * once rather than on each forward pass; redone only if the loader replaced the tensor.
     */
    protected final float[] floats(String name) {
        Tensor t = slot(name).get();
        WidenedTensor w = widened.get(name);
        if (w == null || w.source() != t) {
            w = new WidenedTensor(t, t.toFloatArray());
            widened.put(name, w);
        }
        return w.values();
    }

    private record WidenedTensor(Tensor source, float[] values) {}
}
