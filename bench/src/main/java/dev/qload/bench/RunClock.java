package dev.qload.bench;

import java.lang.management.ManagementFactory;

/**
 * Times one run of a path: wall-clock time, the CPU time of the whole process (user + system, all
 * threads: page faults and the kernel's copies included) and the peak rise of anonymous memory.
 * The CPU time is the figure the other engineers' builds on this 2-core machine disturb least: a
 * path that waits for a core shows it in wall time only.
 */
final class RunClock {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private final QuantizeOnLoadBench.AnonSampler sampler = QuantizeOnLoadBench.AnonSampler.start();
    private final long wall0 = System.nanoTime();
    private final long cpu0 = OS.getProcessCpuTime();

    private RunClock() {}

    static RunClock start() {
        return new RunClock();
    }

    /** Process CPU nanoseconds so far (for the Jlama probe, which reports its own). */
    static long processCpuNanos() {
        return OS.getProcessCpuTime();
    }

    /** Ends the run; {@code modelBytes} is what the peak memory is set against. */
    LoadSample stop(long modelBytes) {
        double ms = (System.nanoTime() - wall0) / 1e6;
        double cpuMs = (OS.getProcessCpuTime() - cpu0) / 1e6;
        return new LoadSample(ms, cpuMs, sampler.stop(), modelBytes);
    }
}
