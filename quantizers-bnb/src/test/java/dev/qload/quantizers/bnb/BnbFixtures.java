package dev.qload.quantizers.bnb;

import dev.qload.core.config.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;

/** testdata/bnb: vectors and checkpoints made by tools/fixtures/bnb (an independent PyTorch port of bitsandbytes). */
final class BnbFixtures {
    private BnbFixtures() {}

    static Path root() {
        String repo = System.getProperty("qload.repo.root");
        return (repo != null ? Path.of(repo) : Path.of("..")).toAbsolutePath().normalize().resolve("testdata");
    }

    static Path bnb(String name) {
        return root().resolve("bnb").resolve(name);
    }

    static JsonNode index() {
        try {
            return Json.STRICT.readTree(Files.readAllBytes(bnb("index.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
