package dev.qload.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/** Shared helpers of the kernel tests: random data, weight segments, float comparisons, child JVMs. */
final class KernelTestSupport {
    /** The unit roundoff of F32 (half an ulp of 1): one correctly rounded F32 operation errs by at most U relative. */
    static final double U = 0x1p-24;

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private KernelTestSupport() {}

    static float[] uniform(SplittableRandom r, int size, double lo, double hi) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) a[i] = (float) r.nextDouble(lo, hi);
        return a;
    }

    /** A zero-filled CPU tensor of {@code count} elements. */
    static Tensor allocate(DType dtype, long count) {
        return Tensor.allocate(Shape.of(count), dtype, Arena.ofAuto());
    }

    /** {@code count} weights uniform in [lo, hi), rounded to {@code dtype} by {@link Tensor#setFloat}. */
    static Tensor randomWeights(SplittableRandom r, DType dtype, long count, double lo, double hi) {
        Tensor t = allocate(dtype, count);
        for (long i = 0; i < count; i++) t.setFloat(i, (float) r.nextDouble(lo, hi));
        return t;
    }

    /**
     * IEEE binary16 decoded from the definition, in double: (−1)^s · 2^(e−15) · (1 + m/1024) for
     * normal numbers, (−1)^s · 2^−14 · m/1024 for subnormals, ±Inf and NaN for e = 31. Written
     * without {@link Float#float16ToFloat} so it checks the kernels independently.
     */
    static double f16Definition(int bits) {
        int sign = (bits >>> 15) & 1, e = (bits >>> 10) & 0x1F, m = bits & 0x3FF;
        double s = sign == 1 ? -1 : 1;
        if (e == 0x1F) return m == 0 ? s * Double.POSITIVE_INFINITY : Double.NaN;
        if (e == 0) return s * Math.scalb(m / 1024.0, -14);
        return s * Math.scalb(1 + m / 1024.0, e - 15);
    }

    /** BF16 from the definition: the upper 16 bits of a binary32, in double via the exponent and mantissa fields. */
    static double bf16Definition(int bits) {
        int sign = (bits >>> 15) & 1, e = (bits >>> 7) & 0xFF, m = bits & 0x7F;
        double s = sign == 1 ? -1 : 1;
        if (e == 0xFF) return m == 0 ? s * Double.POSITIVE_INFINITY : Double.NaN;
        if (e == 0) return s * Math.scalb(m / 128.0, -126);
        return s * Math.scalb(1 + m / 128.0, e - 127);
    }

    /** Equal bit patterns, except that any NaN matches any NaN (payloads are not specified). */
    static void assertSameFloat(float expected, float actual, String where) {
        if (Float.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), () -> where + ": expected NaN, got " + actual);
        } else if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(actual)) {
            fail(where + ": expected " + expected + " (0x" + Integer.toHexString(Float.floatToRawIntBits(expected))
                    + "), got " + actual + " (0x" + Integer.toHexString(Float.floatToRawIntBits(actual)) + ")");
        }
    }

    /**
     * |expected − actual| ≤ tol; NaN only matches NaN and an infinity only the same infinity (so a
     * kernel that overflows or produces NaN where the other does not fails).
     */
    static void assertClose(double expected, double actual, double tol, String where) {
        if (Double.isNaN(expected) || Double.isNaN(actual) || Double.isInfinite(expected) || Double.isInfinite(actual)) {
            if (Double.isNaN(expected)) assertTrue(Double.isNaN(actual), () -> where + ": expected NaN, got " + actual);
            else assertEquals(expected, actual, () -> where + ": non-finite mismatch");
            return;
        }
        double err = Math.abs(expected - actual);
        if (!(err <= tol)) fail(where + ": expected " + expected + ", got " + actual + ", |error| " + err + " > tolerance " + tol);
    }

    /** The elements outside [from, to) of {@code actual} kept their bits from {@code before}. */
    static void assertUntouchedOutside(float[] before, float[] actual, int from, int to, String where) {
        for (int i = 0; i < before.length; i++) {
            if (i >= from && i < to) continue;
            int k = i;
            assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(actual[i]),
                    () -> where + ": element " + k + " outside [" + from + ", " + to + ") was written");
        }
    }

    /**
     * Runs {@code mainClass} in a fresh JVM with this JVM's class path plus {@code jvmArgs}, and
     * returns its standard output (trimmed); fails on a non-zero exit or after 30 s.
     */
    static String runChildJvm(Class<?> mainClass, String... jvmArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xshare:auto");
        cmd.addAll(List.of(jvmArgs));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        Path log = Files.createTempFile("qload-child", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("child JVM running " + mainClass.getName() + " did not finish in 30 s");
            }
            String text = Files.readString(log, StandardCharsets.UTF_8).trim();
            String shown = String.join(" ", cmd).replace(System.getProperty("java.class.path"), "<class path>");
            assertEquals(0, p.exitValue(), () -> "child JVM " + shown + " failed:\n" + text);
            return text;
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
