package dev.qload.quantizers.gptq;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Parallel;

/**
 * The factor GPTQ propagates errors with (spec/FORMATS.md §3.3; AutoGPTQ {@code fasterquant}):
 * {@code U = cholesky(cholesky_inverse(cholesky(H)), upper=True)}, i.e. the upper Cholesky factor
 * of H⁻¹, computed here as L = chol(H), L⁻¹ by forward substitution, H⁻¹ = L⁻ᵀ·L⁻¹ and the
 * Cholesky factor of that. All row-major doubles; rows of U are what the solver reads.
 */
final class HessianInverse {
    private HessianInverse() {}

    /** Upper Cholesky factor of {@code h}⁻¹ ({@code h}: n × n, symmetric positive definite, already dampened). */
    static double[] upperCholeskyOfInverse(double[] h, int n, String layer) {
        double[] l = cholesky(h, n, layer);
        double[] linv = lowerInverse(l, n);
        double[] hinv = gramOfRows(linv, n);
        double[] l2 = cholesky(hinv, n, layer);
        double[] u = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) u[j * n + i] = l2[i * n + j];
        return u;
    }

    /** Lower L with L·Lᵀ = a (Cholesky–Banachiewicz, row by row). */
    static double[] cholesky(double[] a, int n, String layer) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            int ri = i * n;
            for (int j = 0; j <= i; j++) {
                int rj = j * n;
                double s = a[ri + j];
                for (int k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
                if (i == j) {
                    if (!(s > 0)) throw notPositiveDefinite(layer, i);
                    l[ri + i] = Math.sqrt(s);
                } else {
                    l[ri + j] = s / l[rj + j];
                }
            }
        }
        return l;
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
                for (int j = 0; j <= k; j++) inv[ri + j] -= f * inv[rk + j];
            }
            double d = l[ri + i];
            for (int j = 0; j <= i; j++) inv[ri + j] /= d;
        }
        return inv;
    }

    /** (L⁻¹)ᵀ·L⁻¹ for lower-triangular L⁻¹: entry (a, b) = Σ_{k ≥ max(a,b)} M[k,a]·M[k,b]; rows in parallel. */
    private static double[] gramOfRows(double[] m, int n) {
        double[] out = new double[n * n];
        Parallel.forRange(n, 8, (from, to) -> {
            for (int a = from; a < to; a++) {
                int ra = a * n;
                for (int k = a; k < n; k++) {
                    int rk = k * n;
                    double f = m[rk + a];
                    for (int b = 0; b <= a; b++) out[ra + b] += f * m[rk + b];
                }
            }
        });
        for (int a = 0; a < n; a++) for (int b = a + 1; b < n; b++) out[a * n + b] = out[b * n + a];
        return out;
    }

    private static QLoadException notPositiveDefinite(String layer, int column) {
        return new QLoadException(Problem.of(ErrorId.GPTQ_HESSIAN_NOT_POSITIVE_DEFINITE,
                "the dampened Hessian of '" + layer + "' is not positive definite at column " + column
                        + " (too few or degenerate calibration tokens); raise damp_percent or add calibration data"));
    }
}
