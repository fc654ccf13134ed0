package dev.qload.integrity;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths in the repository: the committed corpus and fixtures, and where measurements are written. */
final class Repo {
    private Repo() {}

    static Path root() {
        String root = System.getProperty("qload.repo.root");
        return root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize();
    }

    static Path testdata(String relative) {
        Path p = root().resolve("testdata").resolve(relative);
        if (!Files.exists(p)) throw new IllegalStateException(p + " is missing; see tools/hostile/README.md and tools/fixtures/README.md");
        return p;
    }

    /** integrity-tests/target/integrity: the tables the tests measure, for docs/INTEGRITY.md. */
    static Path measurements() {
        return root().resolve("integrity-tests/target/integrity");
    }
}
