package dev.qload.models.llama;

import java.nio.file.Files;
import java.nio.file.Path;

/** The committed fixtures under testdata/, made by tools/fixtures with PyTorch. */
final class TestData {
    private TestData() {}

    static Path base() {
        String root = System.getProperty("qload.repo.root");
        return (root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize()).resolve("testdata");
    }

    static Path dir(String name) {
        Path p = base().resolve(name);
        if (!Files.isDirectory(p)) throw new IllegalStateException("fixture " + p + " is missing; see tools/fixtures/README.md");
        return p;
    }
}
