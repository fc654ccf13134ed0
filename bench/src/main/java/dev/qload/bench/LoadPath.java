package dev.qload.bench;

import java.util.concurrent.Callable;

/**
 * One way of getting a checkpoint's bytes into memory, timed by {@link LoadMatrixBench}: a floor,
 * a qload load with some options, or Jlama in a JVM of its own.
 *
 * @param name   the row label
 * @param target the issue-10 target this path is held to
 * @param versus for {@link Target#EAGER} and {@link Target#JLAMA}: the name of the qload path in the
 *               same case it is compared with; otherwise null
 * @param run    one timed run
 */
record LoadPath(String name, Target target, String versus, Callable<LoadSample> run) {

    static LoadPath of(String name, Target target, Callable<LoadSample> run) {
        return new LoadPath(name, target, null, run);
    }

    static LoadPath versus(String name, Target target, String versus, Callable<LoadSample> run) {
        return new LoadPath(name, target, versus, run);
    }

    /** The targets of issue 10, each a ratio against a baseline measured in the same run. */
    enum Target {
        /** The case's baseline: the page-cache read floor. */
        FLOOR("baseline"),
        /** Reported only. */
        NONE(""),
        /** Dtype kept, weights resident: at most 1.25 × the floor. */
        RESIDENT("<= 1.25x floor"),
        /** On-load quantization (NF4, int8, MXFP4): at most 2 × the floor. */
        QUANTIZE("<= 2x floor"),
        /** The eager baseline: meta loading (dtype kept, resident) at least 3 × faster. */
        EAGER("meta >= 3x faster"),
        /** Jlama: qload's matching path must be faster. */
        JLAMA("qload faster");

        final String label;

        Target(String label) {
            this.label = label;
        }

        /** The most a path may take, as a multiple of the floor; infinite where the target is not a floor ratio. */
        double maxTimesFloor() {
            return switch (this) {
                case RESIDENT -> 1.25;
                case QUANTIZE -> 2.0;
                default -> Double.POSITIVE_INFINITY;
            };
        }
    }

    /** Peak anonymous memory may be at most this multiple of the final model's bytes, on every path. */
    static final double MAX_PEAK_OVER_MODEL = 1.15;
}
