package dev.qload.models.llama;

import java.nio.file.Files;
import java.nio.file.Path;

/** The committed fixtures under testdata/, made by tools/fixtures with PyTorch. */
final class TestData {
    private TestData() {}

    static Path dir(String name) {
        String root = System.getProperty("qload.repo.root");
        Path base = root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize();
        Path p = base.resolve("testdata").resolve(name);
        if (!Files.isDirectory(p)) throw new IllegalStateException("fixture " + p + " is missing; see tools/fixtures/README.md");
        return p;
    }
}
