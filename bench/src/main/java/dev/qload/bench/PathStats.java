package dev.qload.bench;

import java.util.List;

/**
 * The repetitions of one path summarised: median and spread (max − min) of the time, the highest
 * peak of anonymous memory over every repetition, and the model's bytes.
 */
record PathStats(double medianMs, double minMs, double maxMs, long peakAnonBytes, long modelBytes, int runs) {

    static PathStats of(List<LoadSample> samples) {
        double[] ms = samples.stream().mapToDouble(LoadSample::ms).sorted().toArray();
        // the mean of the two middle runs for an even count, as a median is defined
        double median = ms.length % 2 == 1 ? ms[ms.length / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
        long peak = samples.stream().mapToLong(LoadSample::peakAnonBytes).max().orElse(0);
        return new PathStats(median, ms[0], ms[ms.length - 1], peak, samples.getLast().modelBytes(), ms.length);
    }

    double spreadMs() {
        return maxMs - minMs;
    }

    /** Peak anonymous memory over the final model's bytes; 0 for a model of no bytes. */
    double peakOverModel() {
        return modelBytes == 0 ? 0 : (double) peakAnonBytes / modelBytes;
    }
}
