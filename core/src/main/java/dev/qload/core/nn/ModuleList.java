package dev.qload.core.nn;

import dev.qload.core.module.Module;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** {@code nn.ModuleList}: children named "0", "1", ... so paths read {@code layers.3.mlp}. */
public class ModuleList<M extends Module> extends Module {
    private final List<String> names = new ArrayList<>();

    public M add(M module) {
        String name = Integer.toString(names.size());
        names.add(name);
        return registerChild(name, module);
    }

    /** The current module at index i (a quantizer may have replaced it). */
    @SuppressWarnings("unchecked")
    public M get(int i) {
        return (M) children().get(names.get(i));
    }

    public int size() {
        return names.size();
    }

    public List<String> names() {
        return Collections.unmodifiableList(names);
    }
}
