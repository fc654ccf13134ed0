package dev.qload.bench;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import java.io.File;
import java.util.Locale;

/**
 * Loads a checkpoint with Jlama 0.8.4 and prints {@code jlama_load_ms=…}: run by
 * {@link QuantizeOnLoadBench} in its own JVM with Jlama's flags. Args: DIR QUANTIZATION (e.g. Q4, BF16).
 */
public final class JlamaLoadProbe {
    private JlamaLoadProbe() {}

    public static void main(String[] args) {
        File dir = new File(args[0]);
        DType quantization = DType.valueOf(args[1]);
        long t0 = System.nanoTime();
        AbstractModel model = ModelSupport.loadModel(dir, DType.F32, quantization);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf(Locale.ROOT, "jlama_load_ms=%d quantization=%s model=%s%n", ms, quantization, model.getClass().getSimpleName());
        System.exit(0);
    }
}
