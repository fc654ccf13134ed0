package dev.qload.bench;

import dev.qload.core.checkpoint.CheckpointWriter;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.FloatFormats;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A deterministic, randomly initialised Llama checkpoint in the Hugging Face layout, written with
 * qload's own {@link CheckpointWriter}: {@code config.json} ({@code LlamaForCausalLM}),
 * {@code model.safetensors} (BF16; weights ~ normal(0, 0.02), norms 1), and a Llama-2 style
 * {@code tokenizer.json} + {@code tokenizer_config.json} that Jlama 0.8.4's {@code LlamaTokenizer}
 * can read (byte-fallback BPE with a generated vocabulary and merges).
 *
 * <p>Every tensor is drawn from its own {@link SplittableRandom} seeded from the spec's seed and
 * the tensor's name, so the bytes do not depend on thread scheduling. A directory is reused when
 * its {@value #STAMP} file matches the spec; otherwise it is generated beside the target and moved
 * into place, so a half-written checkpoint is never picked up.
 */
public final class SyntheticLlama {
    /** Written last; its content is {@link Spec#toString()}. */
    public static final String STAMP = "synthetic-spec.txt";

    /**
     * @param maxPositions {@code max_position_embeddings}; Jlama sizes its RoPE table (and KV pages) by it
     */
    public record Spec(int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab, int maxPositions, long seed) {
        public Spec {
            if (hidden % heads != 0 || heads % kvHeads != 0) throw new IllegalArgumentException("inconsistent heads: " + hidden + "/" + heads + "/" + kvHeads);
            if (vocab < TokenizerJson.MIN_VOCAB) throw new IllegalArgumentException("vocab must be at least " + TokenizerJson.MIN_VOCAB);
        }

        /**
         * ≈ 0.5 B parameters: 24 layers × 18.09 M + 2 × 32.77 M (untied embeddings and lm_head)
         * = 499.7 M, 0.999 GB in BF16. Hidden 1024, 16 heads of 64, 8 KV heads (GQA 2:1) as asked;
         * intermediate 4864 (instead of 2816, which gives only 0.35 B) brings the total to 0.5 B.
         */
        public static Spec halfBillion() {
            return new Spec(1024, 4864, 24, 16, 8, 32000, 2048, 20240501L);
        }

        /**
         * ≈ 1.1 B parameters, 2.2 GB in BF16: TinyLlama-1.1B's shape (hidden 2048, intermediate 5632,
         * 22 layers, 32 heads of 64, 4 KV heads, vocabulary 32000, untied head), the largest Llama
         * that loads twice over beside the other work on this 23 GB machine.
         */
        public static Spec oneBillion() {
            return new Spec(2048, 5632, 22, 32, 4, 32000, 2048, 20240502L);
        }

        /** For the unit test: 2 layers, hidden 64. */
        public static Spec tiny() {
            return new Spec(64, 160, 2, 4, 2, 512, 128, 7L);
        }

        public int headDim() {
            return hidden / heads;
        }

        public long parameterCount() {
            long perLayer = (long) hidden * headDim() * heads          // q
                    + 2L * hidden * headDim() * kvHeads                // k, v
                    + (long) heads * headDim() * hidden                // o
                    + 3L * hidden * intermediate                       // gate, up, down
                    + 2L * hidden;                                     // two norms
            return layers * perLayer + 2L * vocab * hidden + hidden;
        }

        public long bytes() {
            return 2 * parameterCount();
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "llama hidden=%d intermediate=%d layers=%d heads=%d kv_heads=%d vocab=%d max_positions=%d seed=%d dtype=bf16 std=0.02 v1",
                    hidden, intermediate, layers, heads, kvHeads, vocab, maxPositions, seed);
        }
    }

    /**
     * How the same weights are stored: the dtype of every tensor (the values are the same normal
     * draws, rounded to nearest even into BF16 or F16, or kept as F32) and the shard size handed to
     * {@link CheckpointWriter} (5 GB, its default, gives one file for every model here).
     */
    public record Storage(DType dtype, long maxShardBytes) {
        public Storage {
            if (dtype != DType.BF16 && dtype != DType.F16 && dtype != DType.F32) throw new IllegalArgumentException("BF16, F16 or F32, not " + dtype);
        }

        /** BF16 in one file, as every benchmark before issue 10 used. */
        public static Storage bf16SingleFile() {
            return new Storage(DType.BF16, CheckpointWriter.DEFAULT_MAX_SHARD_BYTES);
        }

        boolean isDefault() {
            return equals(bf16SingleFile());
        }

        /** The stamp of {@code spec} stored this way: unchanged for the default, so existing checkpoints stay valid. */
        String stamp(Spec spec) {
            if (isDefault()) return spec.toString();
            return spec.toString().replace("dtype=bf16", "dtype=" + dtype.name().toLowerCase(Locale.ROOT)) + " max_shard_bytes=" + maxShardBytes;
        }
    }

    private SyntheticLlama() {}

    /** Returns {@code dir}, generating the checkpoint there first unless it is already present for {@code spec}. */
    public static Path ensure(Path dir, Spec spec) {
        return ensure(dir, spec, Storage.bf16SingleFile());
    }

    /** Returns {@code dir}, generating the checkpoint there first unless it is already present for {@code spec} stored as {@code storage}. */
    public static Path ensure(Path dir, Spec spec, Storage storage) {
        dir = dir.toAbsolutePath().normalize();
        if (isPresent(dir, spec, storage)) return dir;
        try {
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), dir.getFileName() + ".tmp-");
            write(tmp, spec, storage);
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: keep the default
            }
            if (Files.exists(dir)) deleteRecursively(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    public static boolean isPresent(Path dir, Spec spec) {
        return isPresent(dir, spec, Storage.bf16SingleFile());
    }

    static boolean isPresent(Path dir, Spec spec, Storage storage) {
        try {
            Path stamp = dir.resolve(STAMP);
            return Files.isRegularFile(stamp) && Files.readString(stamp).strip().equals(storage.stamp(spec));
        } catch (IOException e) {
            return false;
        }
    }

    /** Writes every file of the checkpoint into {@code dir} (which need not exist). */
    public static void write(Path dir, Spec spec) throws IOException {
        write(dir, spec, Storage.bf16SingleFile());
    }

    static void write(Path dir, Spec spec, Storage storage) throws IOException {
        Files.createDirectories(dir);
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> stateDict = stateDict(spec, storage.dtype(), arena);
            stateDict.entrySet().parallelStream().forEach(e -> fill(e.getKey(), e.getValue(), spec.seed()));
            CheckpointWriter.save(dir, stateDict, storage.maxShardBytes());
        }
        Files.writeString(dir.resolve("config.json"), configJson(spec, storage.dtype()), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("generation_config.json"),
                "{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n  \"do_sample\": false\n}\n", StandardCharsets.UTF_8);
        TokenizerJson.write(dir, spec.vocab());
        Files.writeString(dir.resolve(STAMP), storage.stamp(spec) + "\n", StandardCharsets.UTF_8);
    }

    /** The state dict in transformers' order, every tensor allocated (zeroed) in {@code arena}. */
    static Map<String, Tensor> stateDict(Spec s, Arena arena) {
        return stateDict(s, DType.BF16, arena);
    }

    static Map<String, Tensor> stateDict(Spec s, DType dtype, Arena arena) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        int hd = s.headDim();
        sd.put("model.embed_tokens.weight", tensor(dtype, arena, s.vocab(), s.hidden()));
        for (int i = 0; i < s.layers(); i++) {
            String p = "model.layers." + i + ".";
            sd.put(p + "self_attn.q_proj.weight", tensor(dtype, arena, s.heads() * hd, s.hidden()));
            sd.put(p + "self_attn.k_proj.weight", tensor(dtype, arena, s.kvHeads() * hd, s.hidden()));
            sd.put(p + "self_attn.v_proj.weight", tensor(dtype, arena, s.kvHeads() * hd, s.hidden()));
            sd.put(p + "self_attn.o_proj.weight", tensor(dtype, arena, s.hidden(), s.heads() * hd));
            sd.put(p + "mlp.gate_proj.weight", tensor(dtype, arena, s.intermediate(), s.hidden()));
            sd.put(p + "mlp.up_proj.weight", tensor(dtype, arena, s.intermediate(), s.hidden()));
            sd.put(p + "mlp.down_proj.weight", tensor(dtype, arena, s.hidden(), s.intermediate()));
            sd.put(p + "input_layernorm.weight", tensor(dtype, arena, s.hidden()));
            sd.put(p + "post_attention_layernorm.weight", tensor(dtype, arena, s.hidden()));
        }
        sd.put("model.norm.weight", tensor(dtype, arena, s.hidden()));
        sd.put("lm_head.weight", tensor(dtype, arena, s.vocab(), s.hidden()));
        return sd;
    }

    private static Tensor tensor(DType dtype, Arena arena, long... dims) {
        return Tensor.allocate(Shape.of(dims), dtype, arena);
    }

    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Norms (1-D) are 1, as {@code LlamaRMSNorm} initialises them; matrices are normal(0, 0.02).
     * The draws do not depend on the dtype, so the F32, F16 and BF16 files hold the same weights
     * up to rounding.
     */
    static void fill(String name, Tensor t, long seed) {
        MemorySegment d = t.data();
        long n = t.elementCount();
        DType dtype = t.dtype();
        SplittableRandom random = t.shape().rank() == 1 ? null : new SplittableRandom(mix(seed, name));
        for (long i = 0; i < n; i++) {
            float v = random == null ? 1f : (float) (0.02 * random.nextGaussian());
            switch (dtype) {
                case BF16 -> d.setAtIndex(BF16, i, FloatFormats.floatToBf16(v));
                case F16 -> d.setAtIndex(BF16, i, FloatFormats.floatToF16(v));
                case F32 -> d.setAtIndex(F32, i, v);
                default -> throw new IllegalArgumentException("no synthetic " + dtype + " weights");
            }
        }
    }

    /** A 64-bit seed from the spec's seed and the tensor name (FNV-1a, then SplitMix64's finaliser). */
    static long mix(long seed, String name) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    /** The fields transformers' {@code LlamaConfig} writes, plus those Jlama's {@code LlamaConfig} requires. */
    static String configJson(Spec s) {
        return configJson(s, DType.BF16);
    }

    /** {@code torch_dtype} names the stored dtype, as transformers' {@code save_pretrained} writes it. */
    static String configJson(Spec s, DType dtype) {
        String torchDtype = switch (dtype) {
            case F16 -> "float16";
            case F32 -> "float32";
            default -> "bfloat16";
        };
        return String.format(Locale.ROOT, """
                {
                  "architectures": ["LlamaForCausalLM"],
                  "attention_bias": false,
                  "attention_dropout": 0.0,
                  "bos_token_id": 1,
                  "eos_token_id": 2,
                  "head_dim": %d,
                  "hidden_act": "silu",
                  "hidden_size": %d,
                  "initializer_range": 0.02,
                  "intermediate_size": %d,
                  "max_position_embeddings": %d,
                  "mlp_bias": false,
                  "model_type": "llama",
                  "num_attention_heads": %d,
                  "num_hidden_layers": %d,
                  "num_key_value_heads": %d,
                  "pretraining_tp": 1,
                  "rms_norm_eps": 1e-05,
                  "rope_scaling": null,
                  "rope_theta": 10000.0,
                  "tie_word_embeddings": false,
                  "torch_dtype": "%s",
                  "transformers_version": "4.46.0",
                  "use_cache": true,
                  "vocab_size": %d
                }
                """, s.headDim(), s.hidden(), s.intermediate(), s.maxPositions(), s.heads(), s.layers(), s.kvHeads(), torchDtype, s.vocab());
    }

    static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> paths = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
            for (Path p : paths) Files.deleteIfExists(p);
        }
    }

    /**
     * {@code java -cp benchmarks.jar dev.qload.bench.SyntheticLlama [--dir DIR] [--tiny]}: generates
     * (or finds) the checkpoint and prints its directory.
     */
    public static void main(String[] args) {
        Path dir = null;
        Spec spec = Spec.halfBillion();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--tiny" -> spec = Spec.tiny();
                default -> throw new IllegalArgumentException("usage: SyntheticLlama [--dir DIR] [--tiny]; unknown " + args[i]);
            }
        }
        if (dir == null) dir = BenchPaths.defaultCheckpointDir();
        long t0 = System.nanoTime();
        boolean present = isPresent(dir.toAbsolutePath().normalize(), spec);
        Path out = ensure(dir, spec);
        System.out.printf(Locale.ROOT, "%s %s (%,d parameters, %.3f GB BF16) in %.1f s: %s%n", present ? "reused" : "generated", spec,
                spec.parameterCount(), spec.bytes() / 1e9, (System.nanoTime() - t0) / 1e9, out);
    }
}
