package dev.qload.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.model.functions.Generator;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import dev.qload.core.QLoad;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.models.llama.LlamaForCausalLM;
import dev.qload.models.llama.LlamaInference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generator makes a checkpoint that qload and Jlama both load; tiny, so it takes well under a second. */
class SyntheticLlamaTest {
    static final SyntheticLlama.Spec TINY = SyntheticLlama.Spec.tiny();

    @Test
    void qloadLoadsTheTinyCheckpointWithTheExpectedShapes(@TempDir Path tmp) {
        Path dir = SyntheticLlama.ensure(tmp.resolve("tiny"), TINY);
        try (LoadedModel model = QLoad.load(dir)) {
            Module root = model.root();
            assertEquals(Shape.of(512, 64), tensor(root, "model.embed_tokens", "weight").shape());
            assertEquals(Shape.of(64, 64), tensor(root, "model.layers.0.self_attn.q_proj", "weight").shape());
            assertEquals(Shape.of(32, 64), tensor(root, "model.layers.1.self_attn.k_proj", "weight").shape());
            assertEquals(Shape.of(160, 64), tensor(root, "model.layers.1.mlp.up_proj", "weight").shape());
            assertEquals(Shape.of(64, 160), tensor(root, "model.layers.0.mlp.down_proj", "weight").shape());
            assertEquals(Shape.of(512, 64), tensor(root, "lm_head", "weight").shape());
            Tensor q = tensor(root, "model.layers.0.self_attn.q_proj", "weight");
            assertEquals(DType.BF16, q.dtype());
            assertEquals(1f, tensor(root, "model.norm", "weight").getFloat(0));
            assertEquals(TINY.parameterCount(), 2 * 512 * 64 + 64 + 2 * (64 * 64 + 2 * 32 * 64 + 64 * 64 + 3 * 64 * 160 + 2 * 64));
            // normal(0, 0.02): the sample standard deviation of 4096 draws is within a few per cent.
            double ss = 0;
            for (int i = 0; i < q.elementCount(); i++) ss += q.getFloat(i) * q.getFloat(i);
            assertEquals(0.02, Math.sqrt(ss / q.elementCount()), 0.002);

            LlamaInference inference = new LlamaInference((LlamaForCausalLM) model.root(), Kernels.get(), 32);
            int[] tokens = inference.generateGreedy(new int[] {1, 300, 301}, 4, -1);
            assertEquals(4, tokens.length);
            for (int t : tokens) assertTrue(t >= 0 && t < 512);
        }
    }

    @Test
    void theCheckpointIsDeterministicAndReused(@TempDir Path tmp) throws Exception {
        Path a = SyntheticLlama.ensure(tmp.resolve("a"), TINY), b = SyntheticLlama.ensure(tmp.resolve("b"), TINY);
        for (String f : List.of("model.safetensors", "config.json", "tokenizer.json")) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        long modified = Files.getLastModifiedTime(a.resolve("model.safetensors")).toMillis();
        assertTrue(SyntheticLlama.isPresent(a, TINY));
        SyntheticLlama.ensure(a, TINY);
        assertEquals(modified, Files.getLastModifiedTime(a.resolve("model.safetensors")).toMillis());
        assertFalse(SyntheticLlama.isPresent(a, SyntheticLlama.Spec.halfBillion()));
    }

    @Test
    void theVocabularyHasDistinctTokensAndConsistentMerges() {
        TokenizerJson.Vocab v = TokenizerJson.vocab(32000);
        assertEquals(32000, v.tokens().size());
        assertEquals(32000, new HashSet<>(v.tokens()).size());
        assertEquals("<0x00>", v.tokens().get(3));
        var known = new HashSet<>(v.tokens());
        for (String m : v.merges()) {
            String[] p = m.split(" ");
            assertTrue(known.contains(p[0]) && known.contains(p[1]) && known.contains(p[0] + p[1]), m);
        }
    }

    @Test
    void jlamaLoadsTheTinyCheckpointAndGenerates(@TempDir Path tmp) {
        Path dir = SyntheticLlama.ensure(tmp.resolve("tiny"), TINY);
        Path kv = tmp.resolve("kv"); // generate() writes its KV pages here (by default: a temp dir it never deletes)
        assertTrue(kv.toFile().mkdir());
        try (AbstractModel model = ModelSupport.loadModel(dir.toFile(), kv.toFile(), com.github.tjake.jlama.safetensors.DType.F32,
                com.github.tjake.jlama.safetensors.DType.BF16, java.util.Optional.empty(), java.util.Optional.empty())) {
            long[] ids = model.getTokenizer().encode("the quick brown fox");
            assertTrue(ids.length > 0 && ids.length < "the quick brown fox".length(), "merges apply: " + ids.length + " tokens");
            assertEquals("the quick brown fox", model.getTokenizer().decode(ids).strip());
            Generator.Response r = model.generate(UUID.randomUUID(), PromptContext.of("the quick brown fox"), 0.0f, ids.length + 6, (s, ms) -> {});
            assertTrue(r.generatedTokens > 0, r.toString());
        }
    }

    static Tensor tensor(Module root, String path, String slot) {
        return root.find(path).slot(slot).get();
    }
}
