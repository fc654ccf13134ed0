package dev.qload.core.load;

/** Where loaded weights live when their dtype and layout already match the checkpoint's. */
public enum Residency {
    /** Zero-copy views of the memory-mapped files: the page cache holds the bytes. The default. */
    MAPPED,
    /** One private copy in process memory, so the files may change or vanish after the load. */
    COPIED
}
