package dev.qload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qload bench} hands over to the bench jar; without one it says how to build it, in one line. */
class BenchCommandTest {

    @Test
    void missingBenchJarIsOneLineNamingItAndHowToBuildIt(@TempDir Path tmp) {
        Path jar = tmp.resolve("benchmarks.jar");
        CliTest.Result r = CliTest.run("bench", "--jar", jar.toString(), "--reps", "1");
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(jar.toString()) && r.err().contains("-pl bench -am"), r.err());
    }

    @Test
    void helpNamesTheMatrixOptions() {
        CliTest.Result r = CliTest.run("bench", "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("--no-jlama") && r.out().contains("--jar"), r.out());
    }
}
