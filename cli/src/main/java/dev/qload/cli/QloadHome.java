package dev.qload.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the project's shipped files (the demo model) are: {@code $QLOAD_HOME} as set by the
 * {@code ./qload} script, else the checkout that holds this jar ({@code cli/target/qload.jar}).
 */
final class QloadHome {
    private QloadHome() {}

    static Path resolve() {
        String env = System.getenv("QLOAD_HOME");
        if (env != null && !env.isBlank()) return Path.of(env);
        try {
            Path jar = Path.of(QloadHome.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = jar; p != null; p = p.getParent()) {
                if (Files.isDirectory(p.resolve("testdata"))) return p;
            }
        } catch (Exception ignored) {
            // fall through to the working directory
        }
        return Path.of("").toAbsolutePath();
    }
}
