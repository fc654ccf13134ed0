package dev.qload.core.error;

import java.util.List;

/** Thrown when config.json (or a quantization config) is malformed, incomplete or of the wrong types. */
public class ConfigException extends QLoadException {
    public ConfigException(Problem problem) {
        super(problem);
    }

    public ConfigException(Problem problem, Throwable cause) {
        super(problem, cause);
    }

    public ConfigException(List<Problem> problems) {
        super(problems);
    }

    public ConfigException(List<Problem> problems, Throwable cause) {
        super(problems, cause);
    }
}
