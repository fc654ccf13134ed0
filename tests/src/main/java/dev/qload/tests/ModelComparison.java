package dev.qload.tests;

import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.module.TensorKind;
import dev.qload.core.module.TensorSlot;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Comparisons the checks share: bytes of tensors and models, initializers, and errors measured in float64. */
final class ModelComparison {
    private ModelComparison() {}

    /** Where {@code a} and {@code b} differ: module classes by path, and every slot's shape, dtype and bytes. Empty when identical. */
    static List<String> differences(Module a, Module b) {
        List<String> problems = new ArrayList<>();
        Map<String, Module> bm = b.namedModules();
        for (var e : a.namedModules().entrySet()) {
            Module other = bm.get(e.getKey());
            if (other == null || other.getClass() != e.getValue().getClass()) {
                problems.add("module '" + e.getKey() + "' is " + e.getValue().typeName() + " in one and " + (other == null ? "absent" : other.typeName()) + " in the other");
            }
        }
        for (NamedSlot ns : a.namedSlots()) {
            TensorSlot other = b.slotAt(ns.path());
            String diff = other == null ? "absent from the other" : difference(ns.slot().get(), other.get());
            if (diff != null) problems.add(kindName(ns.slot().kind()) + " '" + ns.path() + "': " + diff);
        }
        return problems;
    }

    /** Null when equal in shape, dtype and bytes; else what differs. */
    static String difference(Tensor a, Tensor b) {
        if (b == null) return "missing";
        if (a.isMeta() || b.isMeta()) return "on META";
        if (a.dtype() != b.dtype()) return "dtype " + a.dtype() + " vs " + b.dtype();
        if (!a.shape().equals(b.shape())) return "shape " + a.shape() + " vs " + b.shape();
        long at = a.data().mismatch(b.data());
        return at < 0 ? null : "first differing byte at offset " + at;
    }

    /**
     * The first byte range an initializer leaves untouched, or null when it writes every byte:
     * run on a target of 0x00s and on one of 0xFFs, a complete initializer gives the same bytes.
     */
    static String unwrittenByInitializer(TensorSlot slot) {
        Tensor meta = slot.get();
        try (Arena arena = Arena.ofConfined()) {
            long bytes = meta.byteSize();
            MemorySegment zeros = arena.allocate(Math.max(1, bytes), OffHeap.ALIGNMENT).asSlice(0, bytes);
            MemorySegment ones = arena.allocate(Math.max(1, bytes), OffHeap.ALIGNMENT).asSlice(0, bytes).fill((byte) 0xFF);
            slot.initializer().initialize(Tensor.wrap(meta.shape(), meta.dtype(), zeros));
            slot.initializer().initialize(Tensor.wrap(meta.shape(), meta.dtype(), ones));
            long at = zeros.mismatch(ones);
            return at < 0 ? null : "byte " + at + " of " + bytes;
        }
    }

    /** ‖approx − exact‖ / ‖exact‖ over {@code n} elements (0 when both are zero). */
    static double relativeRms(float[] approx, int aOff, double[] exact, int eOff, int n) {
        double err = 0, norm = 0;
        for (int i = 0; i < n; i++) {
            double d = approx[aOff + i] - exact[eOff + i];
            err += d * d;
            norm += exact[eOff + i] * exact[eOff + i];
        }
        return norm == 0 ? (err == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(err / norm);
    }

    /** The largest relative rounding error of a value stored in {@code dtype}: 2^−(mantissa bits). */
    static double roundingOf(DType dtype) {
        return switch (dtype) {
            case BF16 -> 0x1p-8;
            case F16 -> 0x1p-11;
            case F32 -> 0x1p-24;
            default -> 0;
        };
    }

    /** As the loader's messages say it. */
    static String kindName(TensorKind kind) {
        return switch (kind) {
            case PARAMETER -> "parameter";
            case PERSISTENT_BUFFER -> "persistent buffer";
            case NON_PERSISTENT_BUFFER -> "non-persistent buffer";
        };
    }
}
