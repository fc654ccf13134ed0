package dev.qload.bench;

/**
 * One timed run of one path of {@link LoadMatrixBench}.
 *
 * @param ms            wall-clock milliseconds of the run
 * @param cpuMs         CPU milliseconds of the whole process during the run (see {@link RunClock})
 * @param peakAnonBytes the highest RssAnon seen during the run, minus the level before it
 * @param modelBytes    the bytes of the model the run hands over (what peak memory is set against);
 *                      for a floor, the bytes it moved
 */
record LoadSample(double ms, double cpuMs, long peakAnonBytes, long modelBytes) {}
