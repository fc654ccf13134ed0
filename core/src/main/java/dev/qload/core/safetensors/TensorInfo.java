package dev.qload.core.safetensors;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;

/**
 * One entry of a safetensors header. {@code begin}/{@code end} count from the start of the byte
 * buffer (file offset {@code 8 + headerLength}), as {@code data_offsets} do.
 */
public record TensorInfo(String name, DType dtype, Shape shape, long begin, long end) {
    public long byteLength() {
        return end - begin;
    }
}
