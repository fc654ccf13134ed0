package dev.qload.quantizers.gptq;

import dev.qload.core.config.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;

/** testdata/gptq: vectors and the tiny Llama made by tools/fixtures/gptq (an independent PyTorch reference). */
final class GptqFixtures {
    private GptqFixtures() {}

    static Path root() {
        String repo = System.getProperty("qload.repo.root");
        return (repo != null ? Path.of(repo) : Path.of("..")).toAbsolutePath().normalize().resolve("testdata");
    }

    static Path gptq(String name) {
        return root().resolve("gptq").resolve(name);
    }

    static JsonNode index() {
        try {
            return Json.STRICT.readTree(Files.readAllBytes(gptq("index.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
