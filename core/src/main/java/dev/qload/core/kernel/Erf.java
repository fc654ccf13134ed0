package dev.qload.core.kernel;

/**
 * The error function in double precision, which the JDK lacks. |x| &lt; 2.5: the Maclaurin series
 * erf(x) = 2/√π · Σ (−1)ⁿ x^(2n+1) / (n! (2n+1)); otherwise the continued fraction of erfc
 * (Abramowitz &amp; Stegun 7.1.14), evaluated with the modified Lentz method. Both converge to
 * about 1e-15, far below what an F32 GELU can show.
 */
final class Erf {
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

    private Erf() {}

    static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double a = Math.abs(x);
        if (a >= 6) return Math.copySign(1, x); // erfc(6) ≈ 2e-17
        double r = a < 2.5 ? series(a) : 1 - erfcContinuedFraction(a);
        return Math.copySign(r, x);
    }

    private static double series(double x) {
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 100; n++) {
            term *= -x2 / n;
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
        }
        return TWO_OVER_SQRT_PI * sum;
    }

    /** erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), x ≥ 2.5. */
    private static double erfcContinuedFraction(double x) {
        final double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int k = 1; k < 200; k++) {
            double ak = k / 2.0;
            d = x + ak * d;
            if (Math.abs(d) < tiny) d = tiny;
            c = x + ak / c;
            if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}
