package dev.qload.bench;

import dev.qload.core.checkpoint.CheckpointWriter;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A deterministic random gpt-oss checkpoint as {@code openai/gpt-oss-20b} ships it, with its layer
 * shapes (hidden 2880, 64 query heads and 8 KV heads of 64, 32 experts of intermediate size 2880,
 * top-4) but few layers and a smaller vocabulary, so that its dense twin fits a small machine:
 * BF16 attention, router, norms and biases; experts as MXFP4 {@code *_blocks} (random bytes) and
 * {@code *_scales} (random bytes in 118..123, i.e. scales 2^-9..2^-4, where trained weights sit);
 * {@code quantization_config} as in gpt-oss-20b's config.json. Written with qload's own
 * {@link CheckpointWriter}; reused when its {@value SyntheticLlama#STAMP} matches the spec.
 */
public final class SyntheticGptOss {
    public record Spec(int layers, int vocab, long seed) {
        static final int HIDDEN = 2880, INTERMEDIATE = 2880, HEADS = 64, KV_HEADS = 8, HEAD_DIM = 64, EXPERTS = 32;

        /** Two layers: 0.95 GB of MXFP4 experts, 3.2 GB once dequantized to BF16. */
        public static Spec twoLayers() {
            return new Spec(2, 32000, 20250805L);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "gpt-oss-20b shapes layers=%d vocab=%d seed=%d mxfp4 v1", layers, vocab, seed);
        }
    }

    private SyntheticGptOss() {}

    public static Path ensure(Path dir, Spec spec) {
        dir = dir.toAbsolutePath().normalize();
        try {
            Path stamp = dir.resolve(SyntheticLlama.STAMP);
            if (Files.isRegularFile(stamp) && Files.readString(stamp).strip().equals(spec.toString())) return dir;
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), dir.getFileName() + ".tmp-");
            write(tmp, spec);
            if (Files.exists(dir)) SyntheticLlama.deleteRecursively(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path dir, Spec spec) throws IOException {
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> sd = stateDict(spec, arena);
            sd.entrySet().parallelStream().forEach(e -> fill(e.getKey(), e.getValue(), spec.seed()));
            CheckpointWriter.save(dir, sd, CheckpointWriter.DEFAULT_MAX_SHARD_BYTES);
        }
        Files.writeString(dir.resolve("config.json"), configJson(spec), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(SyntheticLlama.STAMP), spec + "\n", StandardCharsets.UTF_8);
    }

    /** transformers' key names and gpt-oss-20b's shapes (spec/FORMATS.md §4.2). */
    static Map<String, Tensor> stateDict(Spec s, Arena arena) {
        int h = Spec.HIDDEN, i = Spec.INTERMEDIATE, e = Spec.EXPERTS, q = Spec.HEADS * Spec.HEAD_DIM, kv = Spec.KV_HEADS * Spec.HEAD_DIM;
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("model.embed_tokens.weight", t(arena, DType.BF16, s.vocab(), h));
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            sd.put(p + "input_layernorm.weight", t(arena, DType.BF16, h));
            for (String[] proj : new String[][] {{"q_proj", "" + q}, {"k_proj", "" + kv}, {"v_proj", "" + kv}}) {
                sd.put(p + "self_attn." + proj[0] + ".weight", t(arena, DType.BF16, Integer.parseInt(proj[1]), h));
                sd.put(p + "self_attn." + proj[0] + ".bias", t(arena, DType.BF16, Integer.parseInt(proj[1])));
            }
            sd.put(p + "self_attn.o_proj.weight", t(arena, DType.BF16, h, q));
            sd.put(p + "self_attn.o_proj.bias", t(arena, DType.BF16, h));
            sd.put(p + "self_attn.sinks", t(arena, DType.BF16, Spec.HEADS));
            sd.put(p + "post_attention_layernorm.weight", t(arena, DType.BF16, h));
            sd.put(p + "mlp.router.weight", t(arena, DType.BF16, e, h));
            sd.put(p + "mlp.router.bias", t(arena, DType.BF16, e));
            String x = p + "mlp.experts.";
            sd.put(x + "gate_up_proj_blocks", t(arena, DType.U8, e, 2 * i, h / 32, 16));
            sd.put(x + "gate_up_proj_scales", t(arena, DType.U8, e, 2 * i, h / 32));
            sd.put(x + "gate_up_proj_bias", t(arena, DType.BF16, e, 2 * i));
            sd.put(x + "down_proj_blocks", t(arena, DType.U8, e, h, i / 32, 16));
            sd.put(x + "down_proj_scales", t(arena, DType.U8, e, h, i / 32));
            sd.put(x + "down_proj_bias", t(arena, DType.BF16, e, h));
        }
        sd.put("model.norm.weight", t(arena, DType.BF16, h));
        sd.put("lm_head.weight", t(arena, DType.BF16, s.vocab(), h));
        return sd;
    }

    private static Tensor t(Arena arena, DType dtype, long... dims) {
        return Tensor.allocate(Shape.of(dims), dtype, arena);
    }

    /** BF16 as {@link SyntheticLlama#fill}; blocks uniform random bytes; scales in 118..123. */
    static void fill(String name, Tensor t, long seed) {
        if (t.dtype() == DType.BF16) {
            SyntheticLlama.fill(name, t, seed);
            return;
        }
        SplittableRandom random = new SplittableRandom(SyntheticLlama.mix(seed, name));
        MemorySegment d = t.data();
        long n = t.byteSize();
        boolean scales = name.endsWith("_scales");
        for (long k = 0; k < n; k++) d.set(ValueLayout.JAVA_BYTE, k, (byte) (scales ? 118 + random.nextInt(6) : random.nextInt(256)));
    }

    static String configJson(Spec s) {
        StringBuilder types = new StringBuilder();
        for (int l = 0; l < s.layers(); l++) types.append(l == 0 ? "" : ", ").append(l % 2 == 0 ? "\"sliding_attention\"" : "\"full_attention\"");
        return String.format(Locale.ROOT, """
                {
                  "architectures": ["GptOssForCausalLM"],
                  "attention_bias": true,
                  "experts_per_token": 4,
                  "head_dim": %d,
                  "hidden_size": %d,
                  "intermediate_size": %d,
                  "layer_types": [%s],
                  "max_position_embeddings": 131072,
                  "model_type": "gpt_oss",
                  "num_attention_heads": %d,
                  "num_experts_per_tok": 4,
                  "num_hidden_layers": %d,
                  "num_key_value_heads": %d,
                  "num_local_experts": %d,
                  "quantization_config": {"modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                    "model.embed_tokens", "lm_head"], "quant_method": "mxfp4"},
                  "rms_norm_eps": 1e-05,
                  "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0, "original_max_position_embeddings": 4096,
                    "rope_type": "yarn", "truncate": false},
                  "rope_theta": 150000,
                  "sliding_window": 128,
                  "swiglu_limit": 7.0,
                  "tie_word_embeddings": false,
                  "torch_dtype": "bfloat16",
                  "vocab_size": %d
                }
                """, Spec.HEAD_DIM, Spec.HIDDEN, Spec.INTERMEDIATE, types, Spec.HEADS, s.layers(), Spec.KV_HEADS, Spec.EXPERTS, s.vocab());
    }
}
