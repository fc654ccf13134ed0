package dev.qload.examples.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A plugin is just a jar: runs this checkout's {@code qload} launcher on the FP8 fixture without
 * the plugin (one clear line naming what is missing) and with the freshly packaged jar in
 * {@code QLOAD_PLUGIN_PATH} (it loads, and {@code qload plugins} lists it with its jar).
 */
class PluginDropInIT {
    record Run(int code, String out, String err) {}

    static Path fixture() {
        return Path.of("src/test/resources/fp8/tiny-llama-fp8").toAbsolutePath();
    }

    static Run qload(String pluginPath, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(System.getProperty("qload.launcher")));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("QLOAD_PLUGIN_PATH");
        if (pluginPath != null) pb.environment().put("QLOAD_PLUGIN_PATH", pluginPath);
        Path out = Files.createTempFile("qload-out", ".txt"), err = Files.createTempFile("qload-err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("qload " + String.join(" ", args) + " did not finish in 5 minutes");
        }
        // Not qload's answer: the JVM's notice about the incubating Vector API, and the launcher's
        // one-time "building the CLI" notice when sources are newer than the jar.
        String errText = Files.readString(err, StandardCharsets.UTF_8).lines()
                .filter(l -> !l.startsWith("WARNING: Using incubator modules") && !l.startsWith("qload: building the CLI"))
                .reduce("", (a, b) -> a + b + "\n");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), errText);
    }

    @Test
    void withoutThePluginTheLoadFailsWithOneLineSayingWhatToAdd() throws Exception {
        Run r = qload(null, "load", fixture().toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("qload: [qload/UnknownQuantizer] no quantizer named 'fp8'"), r.err());
        assertTrue(r.err().contains("available: [bitsandbytes") && !r.err().contains("fp8]"), r.err());
        assertTrue(r.err().contains("Put the jar that provides it on the classpath"), r.err());
    }

    @Test
    void withTheJarOnThePluginPathItLoadsAndIsListed() throws Exception {
        String jar = System.getProperty("plugin.jar");
        assertTrue(Files.isRegularFile(Path.of(jar)), "the plugin jar was not packaged: " + jar);
        Run load = qload(jar, "load", fixture().toString());
        assertEquals(0, load.code(), load.out() + load.err());
        assertTrue(load.out().contains("quantization           fp8"), load.out());
        Run plugins = qload(jar, "plugins");
        assertEquals(0, plugins.code(), plugins.err());
        assertTrue(plugins.out().contains("fp8") && plugins.out().contains("dev.qload.examples.fp8.Fp8QuantizerProvider"), plugins.out());
        assertTrue(plugins.out().contains(Path.of(jar).getFileName().toString()), "the listing names the jar: " + plugins.out());
    }
}
