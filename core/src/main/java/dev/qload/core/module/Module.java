package dev.qload.core.module;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node of the model tree, as in PyTorch's {@code nn.Module}: named tensors (parameters and
 * buffers, in registration order) and named children. Dotted paths and {@link #stateDict()} keys are
 * the ones transformers uses, so checkpoint keys match without translation.
 *
 * <p>A non-persistent buffer must come with its {@link BufferInitializer}: it is not in the
 * checkpoint, and the initializer is how a meta-built model gets its value back.
 */
public class Module {
    private final Map<String, TensorSlot> slots = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();

    protected final Tensor registerParameter(String name, Tensor tensor) {
        addSlot(new TensorSlot(this, name, TensorKind.PARAMETER, tensor, null));
        return tensor;
    }

    /** A buffer saved in the state dict; {@code initializer} may be null (then it must be loaded). */
    protected final Tensor registerPersistentBuffer(String name, Tensor tensor, BufferInitializer initializer) {
        addSlot(new TensorSlot(this, name, TensorKind.PERSISTENT_BUFFER, tensor, initializer));
        return tensor;
    }

    /** A buffer recomputed, never loaded or saved: its initializer is mandatory. */
    protected final Tensor registerNonPersistentBuffer(String name, Tensor tensor, BufferInitializer initializer) {
        if (initializer == null) {
            throw new LoadException(Problem.of(ErrorId.BUFFER_WITHOUT_INITIALIZER, typeName() + " registers non-persistent buffer '" + name
                    + "' without an initializer: it is never in a checkpoint, so after a meta build nothing could ever fill it"));
        }
        addSlot(new TensorSlot(this, name, TensorKind.NON_PERSISTENT_BUFFER, tensor, initializer));
        return tensor;
    }

    public final <M extends Module> M registerChild(String name, M child) {
        if (name.isEmpty() || name.contains(".")) throw new IllegalArgumentException("bad child name '" + name + "'");
        if (slots.containsKey(name)) throw new IllegalArgumentException("'" + name + "' is already a tensor of " + getClass().getSimpleName());
        children.put(name, child);
        return child;
    }

    private void addSlot(TensorSlot slot) {
        // Dots are allowed inside a tensor's local name: quantized formats store companions such as
        // "weight.absmax" on the module that owns "weight" (bitsandbytes' state-dict layout).
        if (slot.name().isEmpty() || slot.name().startsWith(".") || slot.name().endsWith(".")) {
            throw new IllegalArgumentException("bad tensor name '" + slot.name() + "'");
        }
        if (slots.containsKey(slot.name()) || children.containsKey(slot.name())) {
            throw new IllegalArgumentException("'" + slot.name() + "' is already registered on " + getClass().getSimpleName());
        }
        slots.put(slot.name(), slot);
    }

    /** This module's own tensors, in registration order. */
    public final Map<String, TensorSlot> slots() {
        return Collections.unmodifiableMap(slots);
    }

    public final TensorSlot slot(String name) {
        TensorSlot s = slots.get(name);
        if (s == null) throw new IllegalArgumentException(getClass().getSimpleName() + " has no tensor '" + name + "'");
        return s;
    }

    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** The module at a dotted path ("" is this module), or null. */
    public final Module find(String path) {
        Module m = this;
        if (path.isEmpty()) return m;
        for (String part : path.split("\\.")) {
            m = m.children.get(part);
            if (m == null) return null;
        }
        return m;
    }

    /**
     * The slot at a full dotted path ({@code model.norm.weight}), or null. Local names may contain
     * dots ({@code weight.absmax}), so every split point is tried, deepest module first.
     */
    public final TensorSlot slotAt(String path) {
        for (int dot = path.lastIndexOf('.'); dot >= 0; dot = path.lastIndexOf('.', dot - 1)) {
            Module owner = find(path.substring(0, dot));
            TensorSlot s = owner == null ? null : owner.slots.get(path.substring(dot + 1));
            if (s != null) return s;
            if (dot == 0) break;
        }
        return slots.get(path);
    }

    /**
     * Swaps the module at {@code path} for {@code replacement} and returns the old one. This is how
     * a quantizer turns a {@code Linear} into its quantized twin, on META, before any weight lands.
     */
    public final Module replace(String path, Module replacement) {
        int dot = path.lastIndexOf('.');
        Module parent = dot < 0 ? this : find(path.substring(0, dot));
        String name = path.substring(dot + 1);
        if (parent == null || !parent.children.containsKey(name)) {
            throw new IllegalArgumentException("no module at '" + path + "'");
        }
        return parent.children.put(name, replacement);
    }

    /** Every module below and including this one, with its path, parents first. */
    public final Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", this, out);
        return out;
    }

    private static void collectModules(String prefix, Module m, Map<String, Module> out) {
        out.put(prefix, m);
        for (var e : m.children.entrySet()) collectModules(join(prefix, e.getKey()), e.getValue(), out);
    }

    /** Every tensor slot of the tree with its dotted path: parameters and all buffers. */
    public final List<NamedSlot> namedSlots() {
        List<NamedSlot> out = new ArrayList<>();
        for (var e : namedModules().entrySet()) {
            for (TensorSlot s : e.getValue().slots.values()) out.add(new NamedSlot(join(e.getKey(), s.name()), s));
        }
        return out;
    }

    /** PyTorch's {@code state_dict()}: parameters and persistent buffers, by dotted path. */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (NamedSlot ns : namedSlots()) if (ns.slot().kind().inStateDict()) out.put(ns.path(), ns.slot().get());
        return out;
    }

    /** The PyTorch-style name shown in reports: the class's simple name. */
    public String typeName() {
        return getClass().getSimpleName();
    }

    public static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }
}
