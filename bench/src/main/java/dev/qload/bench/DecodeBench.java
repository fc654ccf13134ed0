package dev.qload.bench;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.model.functions.Generator;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.util.PhysicalCoreExecutor;
import dev.qload.core.QLoad;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadedModel;
import dev.qload.models.llama.LlamaForCausalLM;
import dev.qload.models.llama.LlamaInference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decoding throughput, tokens per second, of the ~0.5 B synthetic Llama ({@link SyntheticLlama})
 * in BF16: one operation is one decoded token — a forward pass of one token at the next position
 * with the KV cache, the {@code lm_head} and the greedy choice of the next token. Each iteration
 * starts a fresh cache and feeds an {@value #PROMPT_LENGTH}-token prompt first (not timed), so the
 * positions decoded are the same for every engine.
 *
 * <ul>
 *   <li>{@code qload}: {@link LlamaInference#append} with {@link Kernels#get()}, the JVM as qload
 *       ships it (on 2 cores the common pool has parallelism 1, so {@code MatMul} runs on one thread);</li>
 *   <li>{@code qload2t}: the same with {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=2};</li>
 *   <li>{@code jlama}: Jlama 0.8.4 on the same directory, in its own fork with its own flags; the
 *       operation is the body of Jlama's own {@code AbstractModel.generate} decode loop
 *       ({@code forward(next, pos, kv)} then {@code sample(..., temperature 0, ...)}), so prompt
 *       processing is excluded exactly as in the {@code generateTimeMs} that {@code generate}
 *       reports. At the end of the trial one real {@code generate} call is made and its own
 *       timing is written to {@code bench/target/jlama-generate.txt} as a cross-check.</li>
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
public class DecodeBench {
    static final int PROMPT_LENGTH = 8;
    /** {@code <s>} then seven ids; the same ids for both engines. */
    static final int[] PROMPT = {1, 1500, 4242, 777, 29000, 12345, 360, 9999};
    /** A prompt for the cross-check through Jlama's generate (it is tokenized by Jlama). */
    static final String PROMPT_TEXT = "the quick brown fox jumps over";
    /** qload's cache; an iteration decodes far fewer tokens than this. */
    static final int MAX_POSITIONS = 2048;

    static final String QLOAD_FLAGS_1 = "--add-modules=jdk.incubator.vector";
    static final String QLOAD_FLAGS_2 = "--enable-native-access=ALL-UNNAMED";
    static final String QLOAD_FLAGS_3 = "--sun-misc-unsafe-memory-access=allow";

    /** The checkpoint directory, shared by both engines; generated on first use. */
    @State(Scope.Benchmark)
    public static class Checkpoint {
        /** Empty: bench/target/synthetic-llama-0.5b (or -Dqload.bench.dir). */
        @Param({""})
        public String dir;

        Path path;

        @Setup(Level.Trial)
        public void ensure() {
            path = SyntheticLlama.ensure(BenchPaths.checkpointDir(dir), SyntheticLlama.Spec.halfBillion());
        }
    }

    @State(Scope.Benchmark)
    public static class QloadDecoder {
        LoadedModel model;
        LlamaInference inference;
        int next;

        @Setup(Level.Trial)
        public void load(Checkpoint checkpoint) {
            long t0 = System.nanoTime();
            model = QLoad.load(checkpoint.path);
            inference = new LlamaInference((LlamaForCausalLM) model.root(), Kernels.get(), MAX_POSITIONS);
            System.out.printf(Locale.ROOT, "%n[qload] loaded %s in %.2f s; kernels %s; common-pool parallelism %d; greedy after the prompt: %s%n",
                    checkpoint.path, (System.nanoTime() - t0) / 1e9, Kernels.get().name(), ForkJoinPool.getCommonPoolParallelism(),
                    Arrays.toString(inference.generateGreedy(PROMPT, 8, -1)));
            if (!Kernels.get().name().startsWith("vector")) throw new IllegalStateException("qload is on its scalar kernels: add --add-modules jdk.incubator.vector");
        }

        @Setup(Level.Iteration)
        public void prompt() {
            inference.reset();
            next = LlamaInference.argmax(inference.append(PROMPT, false), 0, inference.config().vocabSize());
        }

        int step() {
            if (inference.position() >= MAX_POSITIONS) prompt(); // never within the default iteration times
            float[] logits = inference.append(new int[] {next}, false);
            next = LlamaInference.argmax(logits, 0, logits.length);
            return next;
        }

        @TearDown(Level.Trial)
        public void close() {
            model.close();
        }
    }

    @State(Scope.Benchmark)
    public static class JlamaDecoder {
        /**
         * Jlama's working-memory dtype (activations, KV cache, and the lm_head, which Jlama converts
         * to it). Its "quantized working memory" is forced to BF16 for a BF16 model, and the
         * transformer weights stay BF16 (no model quantization is asked for).
         */
        @Param({"F32"})
        public String jlamaWorking;

        AbstractModel model;
        KvBufferCache kvCache;
        KvBufferCache.KvBuffer kv;
        AbstractTensor<?, ?> logits;
        Path checkpointDir, kvDirectory;
        int next, pos;

        @Setup(Level.Trial)
        public void load(Checkpoint checkpoint) throws ReflectiveOperationException, IOException {
            checkpointDir = checkpoint.path;
            long t0 = System.nanoTime();
            var working = com.github.tjake.jlama.safetensors.DType.valueOf(jlamaWorking);
            // generate() keeps each session's KV cache in page files under the model's working
            // directory (a new temp dir by default, never deleted): give it one we remove at the end.
            kvDirectory = Files.createTempDirectory("jlama-kv-");
            model = ModelSupport.loadModel(checkpoint.path.toFile(), kvDirectory.toFile(), working, com.github.tjake.jlama.safetensors.DType.BF16,
                    Optional.empty(), Optional.empty());
            // generate() takes its KV buffer from this protected cache; so do we.
            Field f = AbstractModel.class.getDeclaredField("kvBufferCache");
            f.setAccessible(true);
            kvCache = (KvBufferCache) f.get(model);
            logits = model.makeDenseTensor(model.getConfig().vocabularySize);
            System.out.printf(Locale.ROOT, "%n[jlama] loaded %s in %.2f s; working %s; %d threads; greedy after the prompt: %s%n", checkpoint.path,
                    (System.nanoTime() - t0) / 1e9, model.getWorkingDType(), PhysicalCoreExecutor.instance.get().getCoreCount(),
                    Arrays.toString(greedy(8)));
        }

        private int[] greedy(int n) {
            prompt();
            int[] out = new int[n];
            out[0] = next;
            for (int i = 1; i < n; i++) out[i] = step();
            return out;
        }

        @Setup(Level.Iteration)
        public void prompt() {
            if (kv != null) kv.close();
            kv = kvCache.getKvBuffer(UUID.randomUUID());
            AbstractTensor<?, ?> last = model.batchForward(PROMPT, 0, kv);
            next = model.sample(last.slice(last.shape().first() - 1), 0.0f, 0.0f, logits);
            last.close();
            pos = PROMPT.length;
        }

        /** The body of {@code AbstractModel.generate}'s decode loop, without the text decoding. */
        int step() {
            if (pos >= model.getConfig().contextLength) prompt();
            AbstractTensor<?, ?> output = model.forward(next, pos, kv, Optional.empty());
            next = model.sample(output, 0.0f, 0.0f, logits);
            output.close();
            kv.incrementContextPosition();
            pos++;
            return next;
        }

        @TearDown(Level.Trial)
        public void close() {
            if (kv != null) kv.close();
            try {
                // Cross-check: Jlama's own generate() and the decode timing it reports.
                int total = PROMPT_LENGTH + 64;
                Generator.Response r = model.generate(UUID.randomUUID(), PromptContext.of(PROMPT_TEXT), 0.0f, total, (s, ms) -> {});
                double msPerToken = r.generatedTokens == 0 ? Double.NaN : (double) r.generateTimeMs / r.generatedTokens;
                String line = String.format(Locale.ROOT, "jlama_generate working=%s prompt_tokens=%d generated_tokens=%d generate_ms=%d ms_per_token=%.2f tok_s=%.2f finish=%s%n",
                        jlamaWorking, r.promptTokens, r.generatedTokens, r.generateTimeMs, msPerToken, 1000 / msPerToken, r.finishReason);
                System.out.print("\n[jlama] generate() cross-check: " + line);
                Path side = BenchPaths.targetDir().resolve("jlama-generate.txt");
                Files.writeString(side, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                logits.close();
                model.close();
                try {
                    SyntheticLlama.deleteRecursively(kvDirectory);
                } catch (IOException e) {
                    System.err.println("[jlama] could not delete " + kvDirectory + ": " + e);
                }
            }
        }
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {QLOAD_FLAGS_1, QLOAD_FLAGS_2, QLOAD_FLAGS_3})
    public int qload(QloadDecoder d) {
        return d.step();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {QLOAD_FLAGS_1, QLOAD_FLAGS_2, QLOAD_FLAGS_3, "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2"})
    public int qload2t(QloadDecoder d) {
        return d.step();
    }

    /**
     * Jlama's flags, from its run-cli.sh, less the ones for its optional native library and the
     * compiler directives file: the Vector API module, bounds checks off (Jlama also sets this
     * property itself, too late to matter if anything touched the Vector API first), native access.
     * No {@code --enable-preview}: the 0.8.4 jar is class-file version 64 (Java 20) without the
     * preview flag, and runs on JDK 25 without it.
     */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0",
            "--add-opens=jdk.incubator.vector/jdk.incubator.vector=ALL-UNNAMED"})
    public int jlama(JlamaDecoder d) {
        return d.step();
    }
}
