package dev.qload.core.load;

/** One unit of work on one thread, for the trace: {@code startNanos} is relative to the load's start. */
public record TaskSpan(String name, String thread, long startNanos, long durationNanos) {}
