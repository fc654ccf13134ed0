package dev.qload.tests;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.LinearForward;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a quantizer changed in a model: the modules whose class differs from the dense model's at
 * the same path, found by comparing with the META skeleton, never by asking the quantizer.
 */
final class ReplacedModules {
    private ReplacedModules() {}

    record Replaced(String path, Module original, Module replacement) {}

    /** Modules whose class differs from the dense model's at the same path (outermost only). */
    static List<Replaced> replaced(TinyLlama.Spec model, Module root) {
        List<Replaced> out = new ArrayList<>();
        for (var e : TinyLlama.skeleton(model).namedModules().entrySet()) {
            String path = e.getKey();
            if (out.stream().anyMatch(r -> path.startsWith(r.path() + "."))) continue;
            Module now = root.find(path);
            if (now != null && now.getClass() != e.getValue().getClass()) out.add(new Replaced(path, e.getValue(), now));
        }
        return out;
    }

    static List<Replaced> replacedLinears(TinyLlama.Spec model, Module root) {
        return replaced(model, root).stream().filter(r -> r.original() instanceof Linear).toList();
    }

    static Map<String, String> classes(List<Replaced> replaced) {
        Map<String, String> out = new TreeMap<>();
        for (Replaced r : replaced) out.put(r.path(), r.replacement().getClass().getName());
        return out;
    }

    /** Every slot owned by a replaced module or one of its descendants. */
    static List<NamedSlot> replacedSlots(TinyLlama.Spec model, Module root) {
        Set<Module> owners = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Replaced r : replaced(model, root)) owners.addAll(r.replacement().namedModules().values());
        return root.namedSlots().stream().filter(ns -> owners.contains(ns.slot().owner())).toList();
    }

    /** W[o, i] = forward(e_i)[o] − forward(0)[o]: the weights of a quantizer that can run but not dequantize. */
    static Map<String, float[]> weightsThroughForward(List<Replaced> linears) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Replaced r : linears) {
            LinearForward f = (LinearForward) r.replacement();
            int in = Math.toIntExact(f.inFeatures()), o = Math.toIntExact(f.outFeatures());
            float[] identity = new float[in * in];
            for (int i = 0; i < in; i++) identity[i * in + i] = 1;
            float[] y = new float[in * o], bias = new float[o];
            f.forward(Kernels.get(), identity, in, y);
            f.forward(Kernels.get(), new float[in], 1, bias);
            float[] w = new float[o * in];
            for (int i = 0; i < in; i++) for (int k = 0; k < o; k++) w[k * in + i] = y[i * o + k] - bias[k];
            out.put(r.path(), w);
        }
        return out;
    }
}
