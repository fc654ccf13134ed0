package dev.qload.core.module;

/** A parameter is learned and saved; a buffer is state, saved only when persistent. */
public enum TensorKind {
    PARAMETER,
    PERSISTENT_BUFFER,
    NON_PERSISTENT_BUFFER;

    public boolean inStateDict() {
        return this != NON_PERSISTENT_BUFFER;
    }
}
