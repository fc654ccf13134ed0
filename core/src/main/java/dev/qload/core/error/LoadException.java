package dev.qload.core.error;

import java.util.List;

/** Thrown when the checkpoint does not fit the model: missing, unexpected or mismatched tensors, budget overruns, tensors left on meta. */
public class LoadException extends QLoadException {
    public LoadException(Problem problem) {
        super(problem);
    }

    public LoadException(Problem problem, Throwable cause) {
        super(problem, cause);
    }

    public LoadException(List<Problem> problems) {
        super(problems);
    }

    public LoadException(List<Problem> problems, Throwable cause) {
        super(problems, cause);
    }
}
