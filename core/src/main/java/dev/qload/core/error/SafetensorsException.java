package dev.qload.core.error;

import java.util.List;

/** Thrown when a safetensors file breaks a rule of the format (spec/FORMATS.md §1.3), or the checkpoint's index disagrees with its shards. */
public class SafetensorsException extends QLoadException {
    public SafetensorsException(Problem problem) {
        super(problem);
    }

    public SafetensorsException(Problem problem, Throwable cause) {
        super(problem, cause);
    }

    public SafetensorsException(List<Problem> problems) {
        super(problems);
    }

    public SafetensorsException(List<Problem> problems, Throwable cause) {
        super(problems, cause);
    }
}
