package dev.qload.core.error;

import java.nio.file.Path;

/**
 * One thing wrong, with where it was found. {@code file}, {@code tensor} and {@code offset} are
 * optional (null / -1) because not every problem has a place in a file.
 *
 * @param offset byte offset in {@code file}, or -1 when not meaningful
 */
public record Problem(ErrorId id, String message, Path file, String tensor, long offset) {

    public static Problem of(ErrorId id, String message) {
        return new Problem(id, message, null, null, -1);
    }

    public static Problem inFile(ErrorId id, String message, Path file, String tensor, long offset) {
        return new Problem(id, message, file, tensor, offset);
    }

    /** {@code [qload/Id] message (file F, tensor T, offset O)}: one line. */
    public String render() {
        StringBuilder where = new StringBuilder();
        if (file != null) where.append("file ").append(file);
        if (tensor != null) where.append(where.isEmpty() ? "" : ", ").append("tensor '").append(tensor).append('\'');
        if (offset >= 0) where.append(where.isEmpty() ? "" : ", ").append("byte offset ").append(offset);
        return "[" + id.id() + "] " + message + (where.isEmpty() ? "" : " (" + where + ")");
    }
}
