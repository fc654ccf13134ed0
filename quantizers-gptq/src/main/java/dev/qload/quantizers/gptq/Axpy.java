package dev.qload.quantizers.gptq;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code y[yo..yo+n) += s · x[xo..xo+n)} in double with fused multiply-adds: the inner loop of the
 * Hessian, the Cholesky factorisation and GPTQ's lazy updates. Each element is computed the same
 * way on every call (vector lanes, then a scalar fused tail), so results do not depend on threads
 * or on how warm the JIT is.
 */
final class Axpy {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    private Axpy() {}

    static void add(double s, double[] x, int xo, double[] y, int yo, int n) {
        int i = 0;
        DoubleVector sv = DoubleVector.broadcast(D, s);
        for (int end = D.loopBound(n); i < end; i += D.length()) {
            DoubleVector.fromArray(D, x, xo + i).fma(sv, DoubleVector.fromArray(D, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = Math.fma(x[xo + i], s, y[yo + i]);
    }
}
