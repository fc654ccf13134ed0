package dev.qload.cli;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.integrity.ChecksumException;
import dev.qload.core.integrity.ChecksumManifest;
import dev.qload.core.integrity.ExpectedDigest;
import dev.qload.core.integrity.FileCheck;
import dev.qload.core.integrity.Verification;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code qload checksum DIR --write | --verify}: writes or checks {@code DIR/qload-checksums.json}
 * (format: {@link ChecksumManifest}). {@code --verify} prints one line per file (OK, MISMATCH,
 * MISSING) and fails, with one line naming the first bad file, when any does not match.
 */
@Command(name = "checksum", description = "Write (--write) or check (--verify) DIR/" + ChecksumManifest.FILE_NAME
        + ": the size, SHA-256 and BLAKE3 of config.json, the index and every weight file.")
final class ChecksumCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Checkpoint directory (config.json + safetensors).")
    Path directory;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Mode mode;

    static final class Mode {
        @Option(names = "--write", required = true, description = "Hash the checkpoint's files and write the manifest (replacing any).")
        boolean write;

        @Option(names = "--verify", required = true, description = "Check every file the manifest lists, with every digest it gives.")
        boolean verify;
    }

    @Option(names = "--threads", description = "Files hashed at once (default: all cores).")
    Integer threads;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!Files.isDirectory(directory)) {
            throw new QLoadException(Problem.inFile(ErrorId.CHECKPOINT_NOT_FOUND, "not a checkpoint directory", directory, null, -1));
        }
        int workers = threads != null ? Math.max(1, threads) : Runtime.getRuntime().availableProcessors();
        return mode.write ? write(workers) : verify(workers);
    }

    private int write(int workers) {
        PrintWriter out = spec.commandLine().getOut();
        try (Checkpoint checkpoint = Checkpoint.open(directory)) {
            ChecksumManifest manifest = ChecksumManifest.compute(checkpoint, workers);
            Path written = manifest.write(directory);
            for (Map.Entry<String, ExpectedDigest> e : manifest.files().entrySet()) {
                out.printf("%-40s %14d  sha256 %s  blake3 %s%n", e.getKey(), e.getValue().size(), e.getValue().sha256(), e.getValue().blake3());
            }
            out.printf("wrote %s (%d files)%n", written, manifest.files().size());
        }
        return 0;
    }

    private int verify(int workers) {
        PrintWriter out = spec.commandLine().getOut();
        Path file = directory.resolve(ChecksumManifest.FILE_NAME);
        ChecksumManifest manifest = ChecksumManifest.find(directory).orElseThrow(() -> new ChecksumException(Problem.inFile(ErrorId.CHECKSUM_MISSING,
                "there is no " + ChecksumManifest.FILE_NAME + " to verify against; write one with `qload checksum DIR --write`", file, null, -1)));
        List<FileCheck> checks = Verification.plan(directory, Map.of(), manifest.files(), ChecksumManifest.FILE_NAME, Verification.Scope.EVERY)
                .run(workers);
        checks.forEach(c -> out.println(c.line()));
        // Weight files the manifest does not cover: not a failure here (a load under --verify require says so), but worth a line.
        for (String name : safetensorsFiles()) {
            if (!manifest.files().containsKey(name)) out.printf("%-9s %s: not in %s%n", "UNLISTED", name, ChecksumManifest.FILE_NAME);
        }
        List<FileCheck> failed = checks.stream().filter(c -> !c.ok()).toList();
        if (!failed.isEmpty()) {
            out.flush();
            throw new ChecksumException(failed.stream().map(FileCheck::problem).toList());
        }
        out.printf("%d file(s) match %s%n", checks.size(), file);
        return 0;
    }

    private List<String> safetensorsFiles() {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p))
                    .map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + directory + ": " + e.getMessage(), e);
        }
    }
}
