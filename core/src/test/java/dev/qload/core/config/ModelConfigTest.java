package dev.qload.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    private static final Path SOURCE = Path.of("/models/toy/config.json");

    private static ModelConfig parse(String json) {
        return ModelConfig.parse(SOURCE, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void typedAccessorsReadTheValues() {
        ModelConfig c = parse("{\"hidden_size\": 64, \"rms_norm_eps\": 1e-6, \"tie_word_embeddings\": true, \"model_type\": \"llama\","
                + " \"architectures\": [\"LlamaForCausalLM\"], \"rope_scaling\": {\"factor\": 8.0}, \"absent\": null}");
        assertEquals(64, c.intValue("hidden_size"));
        assertEquals(1e-6, c.doubleValue("rms_norm_eps"));
        assertTrue(c.boolValue("tie_word_embeddings", false));
        assertEquals("llama", c.modelType());
        assertEquals(List.of("LlamaForCausalLM"), c.architectures());
        assertEquals(8.0, c.object("rope_scaling").orElseThrow().doubleValue("factor"));
        assertFalse(c.has("absent"), "null counts as absent");
        assertEquals(7, c.intValue("absent", 7));
        assertTrue(c.object("absent").isEmpty());
    }

    @Test
    void missingKeyIsNamedWithTheClosestPresentKeyAsSuggestion() {
        // config.json has a typo ("hiden_size"); the architecture asks for "hidden_size"
        ModelConfig c = parse("{\"hiden_size\": 64, \"num_attention_heads\": 4}");
        ConfigException e = assertThrows(ConfigException.class, () -> c.intValue("hidden_size"));
        assertEquals(ErrorId.CONFIG_MISSING_KEY, e.id());
        assertTrue(e.getMessage().contains("'hidden_size' is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("(did you mean 'hiden_size'?)"), e.getMessage());
        assertEquals(SOURCE, e.problems().getFirst().file());
    }

    @Test
    void missingKeySuggestsTheIntendedNameWhenTheAskedOneIsMisspelled() {
        ModelConfig c = parse("{\"hidden_size\": 64, \"intermediate_size\": 128}");
        ConfigException e = assertThrows(ConfigException.class, () -> c.string("hiden_size"));
        assertEquals(ErrorId.CONFIG_MISSING_KEY, e.id());
        assertTrue(e.getMessage().contains("did you mean 'hidden_size'?"), e.getMessage());
    }

    @Test
    void missingKeyWithNothingCloseHasNoSuggestion() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("{\"vocab_size\": 32000}").intValue("num_hidden_layers"));
        assertEquals(ErrorId.CONFIG_MISSING_KEY, e.id());
        assertFalse(e.getMessage().contains("did you mean"), e.getMessage());
    }

    @Test
    void wrongTypeNamesExpectedAndFound() {
        ModelConfig c = parse("{\"hidden_size\": \"64\", \"rms_norm_eps\": \"small\", \"num_heads\": 4.5, \"tie\": 1, \"big\": 4294967296}");
        ConfigException s = assertThrows(ConfigException.class, () -> c.intValue("hidden_size"));
        assertEquals(ErrorId.CONFIG_WRONG_TYPE, s.id());
        assertTrue(s.getMessage().contains("'hidden_size' must be an integer") && s.getMessage().contains("found string \"64\""), s.getMessage());

        ConfigException d = assertThrows(ConfigException.class, () -> c.doubleValue("rms_norm_eps"));
        assertTrue(d.getMessage().contains("must be a number") && d.getMessage().contains("\"small\""), d.getMessage());

        ConfigException f = assertThrows(ConfigException.class, () -> c.intValue("num_heads"));
        assertTrue(f.getMessage().contains("must be an integer") && f.getMessage().contains("4.5"), f.getMessage());

        ConfigException b = assertThrows(ConfigException.class, () -> c.boolValue("tie", false));
        assertTrue(b.getMessage().contains("must be true or false") && b.getMessage().contains("found number 1"), b.getMessage());

        ConfigException r = assertThrows(ConfigException.class, () -> c.intValue("big"));
        assertEquals(ErrorId.CONFIG_WRONG_TYPE, r.id());
        assertEquals(4294967296L, c.longValue("big"));

        ConfigException a = assertThrows(ConfigException.class, () -> parse("{\"architectures\": \"LlamaForCausalLM\"}").architectures());
        assertTrue(a.getMessage().contains("a list of strings"), a.getMessage());
    }

    @Test
    void duplicateKeysAreInvalid() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("{\"hidden_size\": 64, \"hidden_size\": 128}"));
        assertEquals(ErrorId.CONFIG_INVALID, e.id());
        assertTrue(e.getMessage().contains("hidden_size"), e.getMessage());
    }

    @Test
    void nonObjectAndTrailingContentAreInvalid() {
        assertEquals(ErrorId.CONFIG_INVALID, assertThrows(ConfigException.class, () -> parse("[1, 2]")).id());
        assertEquals(ErrorId.CONFIG_INVALID, assertThrows(ConfigException.class, () -> parse("{\"a\": 1} {\"b\": 2}")).id());
        assertEquals(ErrorId.CONFIG_INVALID, assertThrows(ConfigException.class, () -> parse("{\"a\": ")).id());
    }

    @Test
    void deeplyNestedJsonBombIsRejectedQuickly() {
        String bomb = "{\"a\": " + "[".repeat(10_000) + "]".repeat(10_000) + "}";
        ConfigException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(ConfigException.class, () -> parse(bomb)));
        assertEquals(ErrorId.CONFIG_INVALID, e.id());
        assertTrue(e.getMessage().contains("nesting depth") && e.getMessage().contains(String.valueOf(Json.MAX_NESTING_DEPTH)),
                "fails on the nesting limit: " + e.getMessage());
        assertEquals(SOURCE, e.problems().getFirst().file());
    }

    @Test
    void nestingWithinTheLimitIsAccepted() {
        int depth = Json.MAX_NESTING_DEPTH - 1; // plus the enclosing object
        ModelConfig c = parse("{\"a\": " + "[".repeat(depth) + "]".repeat(depth) + "}");
        assertTrue(c.has("a"));
    }

    @Test
    void readNamesTheFileItCouldNotRead(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("config.json");
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.read(missing));
        assertEquals(ErrorId.CONFIG_INVALID, e.id());
        assertEquals(missing, e.problems().getFirst().file());

        Files.writeString(missing, "{\"hidden_size\": 8}");
        assertEquals(missing, ModelConfig.read(missing).source());
    }
}
