package dev.qload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.config.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * {@code qload load} on every hostile checkpoint of testdata/hostile (tools/hostile/make_hostile_corpus.py)
 * that is meant to fail: one line on stderr, starting with the rule's stable id, no stack trace, and
 * the bad-input exit code.
 */
class HostileCorpusCliTest {
    static Stream<String> failingCases() throws IOException {
        JsonNode cases = Json.STRICT.readTree(Files.readAllBytes(CliTest.testdata("hostile/cases.json"))).get("cases");
        return StreamSupport.stream(cases.spliterator(), false)
                .filter(c -> !c.get("pending").asBoolean() && !c.get("expect").asString().equals("ok"))
                .map(c -> c.get("case").asString() + " " + c.get("expect").asString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failingCases")
    void loadPrintsOneLineWithTheRulesIdAndExitsBadInput(String caseAndId) {
        String[] parts = caseAndId.split(" ");
        CliTest.Result r = CliTest.run("load", CliTest.testdata("hostile/" + parts[0]).toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("qload: [" + parts[1] + "]"), r.err());
        assertFalse(r.err().contains("\tat "), "stack trace printed");
    }
}
