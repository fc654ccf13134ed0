package dev.qload.quantizers.gptq;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.ModuleList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The linear layers GPTQ quantizes: those inside the repeated blocks (the children of a
 * {@link ModuleList}, e.g. {@code model.layers.N}), as optimum's {@code GPTQQuantizer} selects
 * them through {@code get_layers(block)}; embeddings and {@code lm_head} stay dense. With
 * {@code modules_in_block_to_quantize}, only the named modules (relative to their block) are.
 */
final class BlockLinears {
    private BlockLinears() {}

    /** Paths of the Linears to quantize, in module order. */
    static List<String> find(Module root, List<List<String>> modulesInBlock) {
        return byBlock(root, modulesInBlock).values().stream().flatMap(List::stream).toList();
    }

    /** The same paths, grouped by the block they are in (blocks in order; blocks without any left out). */
    static Map<String, List<String>> byBlock(Module root, List<List<String>> modulesInBlock) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        blocks(root).forEach((block, module) -> {
            for (var e : module.namedModules().entrySet()) {
                if (!(e.getValue() instanceof Linear) || e.getKey().isEmpty()) continue;
                if (modulesInBlock != null && modulesInBlock.stream().noneMatch(names -> names.contains(e.getKey()))) continue;
                out.computeIfAbsent(block, b -> new ArrayList<>()).add(block + "." + e.getKey());
            }
        });
        return out;
    }

    /** Every repeated block by its path ({@code model.layers.0} → the decoder layer), in order. */
    static Map<String, Module> blocks(Module root) {
        Map<String, Module> blocks = new LinkedHashMap<>();
        for (var e : root.namedModules().entrySet()) {
            if (!(e.getValue() instanceof ModuleList<?> list)) continue;
            for (var child : list.children().entrySet()) blocks.put(e.getKey() + "." + child.getKey(), child.getValue());
        }
        return blocks;
    }
}
