package dev.qload.core.load;

/** A step of the load pipeline (spec: DESIGN.md "The load, step by step"), with its span relative to the load's start. */
public record Phase(String name, long startNanos, long durationNanos) {
    public double millis() {
        return durationNanos / 1e6;
    }
}
