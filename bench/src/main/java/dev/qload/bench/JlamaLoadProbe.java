package dev.qload.bench;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * Loads a checkpoint with Jlama 0.8.4 in a JVM of its own and prints one line,
 * {@code jlama_load_ms=… jlama_load_cpu_ms=… jlama_first_logits_ms=… jlama_first_logits_cpu_ms=… jlama_peak_anon_bytes=…}: run by
 * {@link QuantizeOnLoadBench} and {@link LoadMatrixBench} with Jlama's flags.
 *
 * <p>Args: {@code DIR QUANTIZATION [--first-logits]} (QUANTIZATION: a Jlama {@code DType} such as
 * Q4 or BF16). With {@code --first-logits} the clock runs on through one forward pass of
 * {@link DecodeBench#PROMPT} (Jlama's {@code batchForward}, as {@code generate} does with a prompt);
 * the first-logits time includes the load. Peak anonymous memory is the rise of RssAnon over the
 * level before the load, sampled every millisecond.
 */
public final class JlamaLoadProbe {
    private JlamaLoadProbe() {}

    public static void main(String[] args) throws Exception {
        File dir = new File(args[0]);
        DType quantization = DType.valueOf(args[1]);
        boolean firstLogits = args.length > 2 && args[2].equals("--first-logits");
        // generate() and batchForward keep the KV cache in page files under the working directory
        // (a fresh temp dir by default, never deleted): give it one that is removed below.
        Path kvDirectory = Files.createTempDirectory("jlama-kv-");
        QuantizeOnLoadBench.AnonSampler sampler = QuantizeOnLoadBench.AnonSampler.start();
        long t0 = System.nanoTime(), cpu0 = RunClock.processCpuNanos();
        AbstractModel model = ModelSupport.loadModel(dir, kvDirectory.toFile(), DType.F32, quantization, Optional.empty(), Optional.empty());
        long loadNanos = System.nanoTime() - t0, loadCpuNanos = RunClock.processCpuNanos() - cpu0;
        long firstLogitsNanos = -1, firstLogitsCpuNanos = -1;
        if (firstLogits) {
            try (var kv = new com.github.tjake.jlama.tensor.KvBufferCache(model).getKvBuffer(UUID.randomUUID())) {
                AbstractTensor<?, ?> out = model.batchForward(DecodeBench.PROMPT, 0, kv);
                firstLogitsNanos = System.nanoTime() - t0;
                firstLogitsCpuNanos = RunClock.processCpuNanos() - cpu0;
                out.close();
            }
        }
        long peak = sampler.stop();
        System.out.printf(Locale.ROOT, "jlama_load_ms=%.1f jlama_load_cpu_ms=%.1f jlama_first_logits_ms=%.1f jlama_first_logits_cpu_ms=%.1f jlama_peak_anon_bytes=%d quantization=%s model=%s%n",
                loadNanos / 1e6, loadCpuNanos / 1e6, firstLogitsNanos / 1e6, firstLogitsCpuNanos / 1e6, peak, quantization, model.getClass().getSimpleName());
        SyntheticLlama.deleteRecursively(kvDirectory);
        System.exit(0);
    }
}
