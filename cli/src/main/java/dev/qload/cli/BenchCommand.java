package dev.qload.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code qload bench}: issue 10's side-by-side load matrix. The benchmark lives in the bench module
 * (it needs Jlama and JMH, which the CLI jar does not carry), so this starts
 * {@code bench/target/benchmarks.jar}'s {@code dev.qload.bench.LoadMatrixBench} in a JVM of its own
 * with the flags the figures were taken with (a fixed, pre-touched 1 GB heap keeps the JVM's heap
 * growth out of the anonymous-memory figures) and passes every argument on.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = {"Time loading synthetic checkpoints every way (page-cache floors, qload mapped/copied/eager/converted/quantized,"
        + " first logits, Jlama 0.8.4) and write a table, JSON and an SVG chart.",
        "Arguments go to LoadMatrixBench: [--reps N] [--cases a,b] [--no-jlama] [--only TEXT] [--dir DIR] [--out DIR]."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--jar", description = "The bench jar (default: QLOAD_HOME/bench/target/benchmarks.jar).")
    Path jar;

    /** Every other option and argument, as given: LoadMatrixBench parses them. */
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Path benchJar = jar != null ? jar : QloadHome.resolve().resolve("bench/target/benchmarks.jar");
        if (!Files.isRegularFile(benchJar)) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("qload: no bench jar at " + benchJar + ": build it with ./mvnw -B install -DskipTests -pl bench -am");
            return Main.EXIT_BAD_INPUT;
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch", "-XX:MaxDirectMemorySize=64g", "-cp", benchJar.toString(), "dev.qload.bench.LoadMatrixBench"));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }
}
