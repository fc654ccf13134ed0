package dev.qload.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * One checkpoint of the load matrix and the paths timed on it, the first of which is the floor
 * every ratio in the case is taken against.
 *
 * @param name        short id ({@code llama-0.5b-bf16} …), used in the JSON and the chart
 * @param description what the checkpoint is: shape, dtype, files, bytes
 * @param dir         the checkpoint directory
 * @param paths       the paths, the floor first
 */
record LoadCase(String name, String description, Path dir, List<LoadPath> paths) {
    LoadCase {
        if (paths.isEmpty() || paths.getFirst().target() != LoadPath.Target.FLOOR) throw new IllegalArgumentException(name + ": the floor must come first");
    }

    /** The floor and the paths whose name contains {@code text} (and the paths those are compared with). */
    LoadCase only(String text) {
        java.util.Set<String> keep = new java.util.HashSet<>();
        for (LoadPath p : paths) {
            if (p.name().contains(text)) {
                keep.add(p.name());
                if (p.versus() != null) keep.add(p.versus());
            }
        }
        return new LoadCase(name, description, dir, paths.stream().filter(p -> p.target() == LoadPath.Target.FLOOR || keep.contains(p.name())).toList());
    }
}
