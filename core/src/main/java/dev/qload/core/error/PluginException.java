package dev.qload.core.error;

import java.util.List;

/** Thrown when a quantizer or architecture cannot be found, is declared twice, or does not support what was asked. */
public class PluginException extends QLoadException {
    public PluginException(Problem problem) {
        super(problem);
    }

    public PluginException(Problem problem, Throwable cause) {
        super(problem, cause);
    }

    public PluginException(List<Problem> problems) {
        super(problems);
    }

    public PluginException(List<Problem> problems, Throwable cause) {
        super(problems, cause);
    }
}
