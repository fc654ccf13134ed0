package dev.qload.tests;

import dev.qload.core.checkpoint.CheckpointWriter;
import dev.qload.core.config.Json;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Tensor;
import dev.qload.models.llama.LlamaArchitecture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import tools.jackson.databind.node.ObjectNode;

/**
 * A tiny random Llama checkpoint ({@code config.json} + {@code model.safetensors}) and, for every
 * {@link Linear} weight, the values it holds as float64: the reference a quantizer's error is
 * measured against. Weights are drawn from {@link Spec#seed()} alone: linear weights
 * N(0, 1/in) (so activations stay near unit scale), embeddings N(0, 1), norms 1 + N(0, 0.1²);
 * each is rounded once to the checkpoint dtype, and the reference is that rounded value.
 */
public final class TinyLlama {
    /** Two decoder layers, four query heads over two key/value heads: grouped-query attention, smallest form. */
    public static final int LAYERS = 2, HEADS = 4, KV_HEADS = 2;

    /** Sizes and dtype of one tiny model; the weights follow from {@code seed}. */
    public record Spec(int hidden, int intermediate, int vocab, DType dtype, long seed) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "llama h%d i%d v%d %s", hidden, intermediate, vocab, dtype);
        }

        /** Whether some linear layer has a width that is not a multiple of 32 (a partial block for blockwise formats). */
        public boolean awkward() {
            return hidden % 32 != 0 || intermediate % 32 != 0;
        }
    }

    private final Spec spec;
    private final Path directory;
    private final Map<String, double[]> linearWeights;

    private TinyLlama(Spec spec, Path directory, Map<String, double[]> linearWeights) {
        this.spec = spec;
        this.directory = directory;
        this.linearWeights = Collections.unmodifiableMap(linearWeights);
    }

    public Spec spec() {
        return spec;
    }

    /** The checkpoint directory. */
    public Path directory() {
        return directory;
    }

    /** Module path of every {@code Linear} → its weight [out, in], row-major, exactly as stored. */
    public Map<String, double[]> linearWeights() {
        return linearWeights;
    }

    public static ObjectNode config(Spec s) {
        ObjectNode c = Json.STRICT.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("hidden_size", s.hidden());
        c.put("intermediate_size", s.intermediate());
        c.put("num_hidden_layers", LAYERS);
        c.put("num_attention_heads", HEADS);
        c.put("num_key_value_heads", KV_HEADS);
        c.put("vocab_size", s.vocab());
        c.put("max_position_embeddings", 64);
        c.put("rms_norm_eps", 1e-6);
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", switch (s.dtype()) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> throw new IllegalArgumentException("tiny models are F32, F16 or BF16, not " + s.dtype());
        });
        return c;
    }

    /** The model's module tree on META, as the loader builds it before any quantizer runs. */
    public static Module skeleton(Spec s) {
        ModelConfig config = ModelConfig.of(config(s));
        return MetaDevice.withMetaDevice(() -> new LlamaArchitecture().build(config, s.dtype()));
    }

    /** Writes the checkpoint into {@code directory} (created if needed). */
    public static TinyLlama write(Spec spec, Path directory) {
        Module skeleton = skeleton(spec);
        Map<String, Linear> linears = new LinkedHashMap<>();
        for (var e : skeleton.namedModules().entrySet()) if (e.getValue() instanceof Linear l) linears.put(e.getKey() + ".weight", l);
        Map<String, double[]> reference = new LinkedHashMap<>();
        // Not through OffHeap: these bytes are the test's, not the model's, and must not move its counters.
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> state = new LinkedHashMap<>();
            for (var e : skeleton.stateDict().entrySet()) {
                String name = e.getKey();
                Tensor meta = e.getValue();
                Tensor t = Tensor.wrap(meta.shape(), meta.dtype(), arena.allocate(meta.byteSize(), OffHeap.ALIGNMENT));
                SplittableRandom random = new SplittableRandom(ConformanceSeed.derive(spec.seed(), name));
                Linear linear = linears.get(name);
                double std = linear != null ? 1 / Math.sqrt(linear.inFeatures()) : name.endsWith("embed_tokens.weight") ? 1 : 0.1;
                double mean = linear == null && !name.endsWith("embed_tokens.weight") ? 1 : 0;
                long n = t.elementCount();
                double[] stored = new double[Math.toIntExact(n)];
                for (int i = 0; i < n; i++) {
                    t.setFloat(i, (float) (mean + std * random.nextGaussian()));
                    stored[i] = t.getFloat(i);
                }
                if (linear != null) reference.put(name.substring(0, name.length() - ".weight".length()), stored);
                state.put(name, t);
            }
            Files.createDirectories(directory);
            CheckpointWriter.save(directory, state, CheckpointWriter.DEFAULT_MAX_SHARD_BYTES);
            Files.writeString(directory.resolve("config.json"), Json.STRICT.writeValueAsString(config(spec)) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tiny model into " + directory, e);
        }
        return new TinyLlama(spec, directory, reference);
    }
}
