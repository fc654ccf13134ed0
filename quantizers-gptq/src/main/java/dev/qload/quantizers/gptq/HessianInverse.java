package dev.qload.quantizers.gptq;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Parallel;

/**
 * The factor GPTQ propagates errors with (spec/FORMATS.md §3.3; AutoGPTQ {@code fasterquant}):
 * {@code U = cholesky(cholesky_inverse(cholesky(H)), upper=True)}, the upper Cholesky factor of
 * H⁻¹. Computed here with one factorisation instead of three: with J the reversal permutation and
 * L' = chol(J·H·J), H⁻¹ = (J·L'⁻¹·J)ᵀ·(J·L'⁻¹·J) and J·L'⁻¹·J is upper triangular with a positive
 * diagonal, so it is that unique factor. All row-major doubles; rows of U are what the solver reads.
 */
final class HessianInverse {
    private HessianInverse() {}

    /** Upper Cholesky factor of {@code h}⁻¹ ({@code h}: n × n, symmetric positive definite, already dampened). */
    static double[] upperCholeskyOfInverse(double[] h, int n, String layer) {
        double[] reversed = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) reversed[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
        double[] linv = lowerInverse(cholesky(reversed, n, layer), n);
        double[] u = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = i; j < n; j++) u[i * n + j] = linv[(n - 1 - i) * n + (n - 1 - j)];
        return u;
    }

    /**
     * Lower L with L·Lᵀ = a, right-looking: after column k is final, every later row i subtracts
     * L[i,k]·L[k+1..i, k] from its row, a contiguous update that vectorises; rows in parallel.
     * {@code a} is overwritten (its lower triangle becomes L).
     */
    static double[] cholesky(double[] a, int n, String layer) {
        double[] column = new double[n];
        for (int k = 0; k < n; k++) {
            double d = a[k * n + k];
            if (!(d > 0)) throw notPositiveDefinite(layer, k);
            double lkk = Math.sqrt(d);
            a[k * n + k] = lkk;
            for (int i = k + 1; i < n; i++) {
                a[i * n + k] /= lkk;
                column[i] = a[i * n + k];
            }
            int kk = k;
            Parallel.forRange(n - k - 1, 64, (from, to) -> {
                for (int i = kk + 1 + from; i < kk + 1 + to; i++) {
                    double f = column[i];
                    if (f == 0) continue;
                    int ri = i * n;
                    Axpy.add(-f, column, kk + 1, a, ri + kk + 1, i - kk);
                }
            });
        }
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) a[i * n + j] = 0;
        return a;
    }

    /** L⁻¹ for lower-triangular L, row by row: row i = (eᵢ − Σ_{k&lt;i} L[i,k]·row k) / L[i,i]. */
    private static double[] lowerInverse(double[] l, int n) {
        double[] inv = new double[n * n];
        for (int i = 0; i < n; i++) {
            int ri = i * n;
            inv[ri + i] = 1;
            for (int k = 0; k < i; k++) {
                double f = l[ri + k];
                if (f == 0) continue;
                int rk = k * n;
                Axpy.add(-f, inv, rk, inv, ri, k + 1);
            }
            double d = l[ri + i];
            for (int j = 0; j <= i; j++) inv[ri + j] /= d;
        }
        return inv;
    }

    private static QLoadException notPositiveDefinite(String layer, int column) {
        return new QLoadException(Problem.of(ErrorId.GPTQ_HESSIAN_NOT_POSITIVE_DEFINITE,
                "the dampened Hessian of '" + layer + "' is not positive definite at column " + column
                        + " (too few or degenerate calibration tokens); raise damp_percent or add calibration data"));
    }
}
