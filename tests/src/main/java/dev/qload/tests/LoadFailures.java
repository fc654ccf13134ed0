package dev.qload.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.tensor.OffHeap;
import org.junit.jupiter.api.function.Executable;

/** Assertions for hostile-input tests: a load fails with a typed error that names the tensor, leaking nothing. */
public final class LoadFailures {
    private LoadFailures() {}

    /** {@code loadAndClose} throws {@code type}, and off-heap memory is exactly as before. */
    public static <E extends QLoadException> E failsCleanly(Class<E> type, Executable loadAndClose) {
        long before = OffHeap.liveBytes();
        E e = assertThrows(type, loadAndClose);
        assertEquals(before, OffHeap.liveBytes(), "off-heap bytes left behind by the failed load");
        return e;
    }

    /** The error is {@code id} and one of its problems of that id names {@code tensor}. */
    public static Problem problemFor(QLoadException e, ErrorId id, String tensor) {
        assertEquals(id, e.id(), e.getMessage());
        for (Problem p : e.problems()) if (p.id() == id && tensor.equals(p.tensor())) return p;
        throw new AssertionError("no " + id + " problem names '" + tensor + "': " + e.getMessage());
    }
}
