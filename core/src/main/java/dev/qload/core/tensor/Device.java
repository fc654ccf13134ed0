package dev.qload.core.tensor;

/**
 * Where a tensor's bytes live. {@code META} tensors have a shape and a dtype and no bytes at all;
 * {@code CPU} tensors are backed by off-heap memory. A GPU device can be added as another constant.
 */
public enum Device {
    META,
    CPU
}
