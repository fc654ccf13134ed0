package dev.qload.bench;

import java.util.List;

/**
 * The repetitions of one path summarised: median and spread (max − min) of the time, the highest
 * peak of anonymous memory over every repetition, and the model's bytes.
 */
record PathStats(double medianMs, double minMs, double maxMs, double medianCpuMs, long peakAnonBytes, long modelBytes, int runs) {

    static PathStats of(List<LoadSample> samples) {
        double[] ms = samples.stream().mapToDouble(LoadSample::ms).sorted().toArray();
        double[] cpu = samples.stream().mapToDouble(LoadSample::cpuMs).sorted().toArray();
        long peak = samples.stream().mapToLong(LoadSample::peakAnonBytes).max().orElse(0);
        return new PathStats(median(ms), ms[0], ms[ms.length - 1], median(cpu), peak, samples.getLast().modelBytes(), ms.length);
    }

    /** Of sorted values: the middle one, or the mean of the two middle ones for an even count. */
    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    double spreadMs() {
        return maxMs - minMs;
    }

    /** Peak anonymous memory over the final model's bytes; 0 for a model of no bytes. */
    double peakOverModel() {
        return modelBytes == 0 ? 0 : (double) peakAnonBytes / modelBytes;
    }
}
