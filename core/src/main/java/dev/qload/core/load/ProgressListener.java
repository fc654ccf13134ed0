package dev.qload.core.load;

/** Told how many bytes of the materialize phase are done. Called from worker threads; keep it cheap. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total) -> {};

    void progress(long bytesDone, long bytesTotal);
}
