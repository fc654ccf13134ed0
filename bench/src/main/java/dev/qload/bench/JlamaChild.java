package dev.qload.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@link JlamaLoadProbe} in a fresh JVM with Jlama's flags (those of its {@code run-cli.sh}
 * that matter here; see bench/README.md, "Jlama 0.8.4: what it needed") and reads its one line back.
 * A fresh JVM per run: Jlama's load includes its own class loading and JIT warm-up, which is what a
 * user of Jlama pays; the page cache is as warm as for qload.
 */
final class JlamaChild {
    /** What one probe run printed. {@code firstLogitsMs} is negative when it was not asked for. */
    record Result(double loadMs, double loadCpuMs, double firstLogitsMs, double firstLogitsCpuMs, long peakAnonBytes) {}

    private static final Pattern LINE = Pattern.compile(
            "jlama_load_ms=([0-9.]+) jlama_load_cpu_ms=([0-9.]+) jlama_first_logits_ms=(-?[0-9.]+) jlama_first_logits_cpu_ms=(-?[0-9.]+) jlama_peak_anon_bytes=(\\d+)");

    private JlamaChild() {}

    static Result run(Path dir, String quantization, boolean firstLogits) {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0",
                "--add-opens=jdk.incubator.vector/jdk.incubator.vector=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                JlamaLoadProbe.class.getName(), dir.toString(), quantization));
        if (firstLogits) cmd.add("--first-logits");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            int rc = p.waitFor();
            Matcher m = LINE.matcher(out);
            if (rc != 0 || !m.find()) throw new IllegalStateException("Jlama " + quantization + " on " + dir + " failed (exit " + rc + "):\n" + out);
            return new Result(Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
                    Double.parseDouble(m.group(4)), Long.parseLong(m.group(5)));
        } catch (IOException e) {
            throw new IllegalStateException("could not start the Jlama JVM: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
