package dev.qload.core.safetensors;

import java.util.List;
import java.util.Map;

/**
 * A validated header: its {@code __metadata__} and its tensors in buffer order.
 *
 * @param headerLength N, the JSON length stored in the first 8 bytes; tensor data starts at 8 + N
 */
public record SafetensorsHeader(Map<String, String> metadata, List<TensorInfo> tensors, long headerLength) {
    public long dataStart() {
        return 8 + headerLength;
    }
}
