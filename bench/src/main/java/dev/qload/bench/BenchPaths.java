package dev.qload.bench;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the synthetic checkpoint and side files live by default: next to the benchmark jar, in {@code bench/target/}. */
public final class BenchPaths {
    /** Overrides the checkpoint directory (as does the {@code dir} JMH parameter). */
    public static final String DIR_PROPERTY = "qload.bench.dir";
    public static final String CHECKPOINT_NAME = "synthetic-llama-0.5b";

    private BenchPaths() {}

    /** {@code bench/target/}: the folder holding benchmarks.jar (or target/classes), else ./bench/target. */
    public static Path targetDir() {
        try {
            Path code = Path.of(BenchPaths.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path parent = Files.isDirectory(code) ? code.getParent() : code.getParent(); // target/classes -> target; target/x.jar -> target
            if (parent != null && parent.getFileName() != null && parent.getFileName().toString().equals("target")) return parent;
        } catch (URISyntaxException | RuntimeException ignored) {
            // fall through
        }
        return Path.of("bench", "target").toAbsolutePath();
    }

    public static Path defaultCheckpointDir() {
        String property = System.getProperty(DIR_PROPERTY);
        if (property != null && !property.isBlank()) return Path.of(property);
        return targetDir().resolve(CHECKPOINT_NAME);
    }

    /** The JMH {@code dir} parameter, or the default when it is empty. */
    public static Path checkpointDir(String param) {
        return param == null || param.isBlank() ? defaultCheckpointDir() : Path.of(param);
    }
}
