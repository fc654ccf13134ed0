package dev.qload.integrity;

import dev.qload.core.config.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * One entry of {@code testdata/hostile/cases.json} (written by tools/hostile/make_hostile_corpus.py):
 * a checkpoint directory that breaks one rule, and the error id the rule calls for, or {@code ok}
 * for a family's control checkpoint, which must load. {@code pending} entries belong to code not
 * built yet (MXFP4) and are not run.
 */
record HostileCase(String name, String expect, String rule, boolean pending) {
    static final String LOADS = "ok";

    Path directory() {
        return Repo.testdata("hostile").resolve(name);
    }

    boolean mustLoad() {
        return expect.equals(LOADS);
    }

    static List<HostileCase> all() {
        Path index = Repo.testdata("hostile/cases.json");
        JsonNode root;
        try {
            root = Json.STRICT.readTree(Files.readAllBytes(index));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + index, e);
        }
        List<HostileCase> cases = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            cases.add(new HostileCase(c.get("case").asString(), c.get("expect").asString(), c.get("rule").asString(), c.get("pending").asBoolean()));
        }
        return cases;
    }

    @Override
    public String toString() {
        return name;
    }
}
