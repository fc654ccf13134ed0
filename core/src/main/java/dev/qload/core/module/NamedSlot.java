package dev.qload.core.module;

/** A slot with its full dotted path from the root ({@code model.layers.0.self_attn.q_proj.weight}). */
public record NamedSlot(String path, TensorSlot slot) {
    public String modulePath() {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? "" : path.substring(0, dot);
    }
}
