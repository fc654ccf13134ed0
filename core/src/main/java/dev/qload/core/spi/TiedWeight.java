package dev.qload.core.spi;

/**
 * {@code target} shares {@code source}'s tensor ({@code lm_head.weight} ← {@code model.embed_tokens.weight}),
 * as transformers' {@code _tied_weights_keys = {target: source}}.
 */
public record TiedWeight(String target, String source) {}
