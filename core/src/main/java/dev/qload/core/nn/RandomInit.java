package dev.qload.core.nn;

import dev.qload.core.tensor.Tensor;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The random initialisation PyTorch runs when a module is built eagerly (outside a meta scope).
 * qload only does this for the eager baseline, the "before" of meta loading that benchmarks
 * compare against; a META tensor is left alone, which is the whole point.
 */
public final class RandomInit {
    private RandomInit() {}

    /** {@code nn.init.uniform_(t, -bound, bound)}. */
    public static void uniform(Tensor t, double bound) {
        if (t.isMeta()) return;
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long n = t.elementCount();
        for (long i = 0; i < n; i++) t.setFloat(i, (float) r.nextDouble(-bound, bound));
    }

    /** {@code nn.init.normal_(t, 0, std)}. */
    public static void normal(Tensor t, double std) {
        if (t.isMeta()) return;
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long n = t.elementCount();
        for (long i = 0; i < n; i++) t.setFloat(i, (float) (r.nextGaussian() * std));
    }

    public static void fill(Tensor t, float value) {
        if (t.isMeta()) return;
        long n = t.elementCount();
        for (long i = 0; i < n; i++) t.setFloat(i, value);
    }
}
