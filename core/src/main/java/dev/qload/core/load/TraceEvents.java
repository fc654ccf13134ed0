package dev.qload.core.load;

import dev.qload.core.config.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a load's phases and tasks in Chrome's trace-event format (complete events, {@code ph: "X"},
 * microseconds), which Perfetto and chrome://tracing open: the same kind of picture that showed
 * transformers most of its load time went to building the model, not reading weights.
 */
public final class TraceEvents {
    private TraceEvents() {}

    public static ObjectNode toJson(LoadReport report) {
        ObjectNode root = Json.STRICT.createObjectNode();
        ArrayNode events = root.putArray("traceEvents");
        for (Phase p : report.phases()) event(events, p.name(), "phase", 0, p.startNanos(), p.durationNanos());
        Map<String, Integer> threadIds = new HashMap<>();
        for (TaskSpan s : report.spans()) {
            int tid = threadIds.computeIfAbsent(s.thread(), t -> threadIds.size() + 1);
            event(events, s.name(), "task", tid, s.startNanos(), s.durationNanos());
        }
        ObjectNode main = events.addObject();
        main.put("name", "thread_name").put("ph", "M").put("pid", 1).put("tid", 0);
        main.putObject("args").put("name", "pipeline");
        threadIds.forEach((name, tid) -> {
            ObjectNode m = events.addObject();
            m.put("name", "thread_name").put("ph", "M").put("pid", 1).put("tid", tid);
            m.putObject("args").put("name", name);
        });
        root.put("displayTimeUnit", "ms");
        return root;
    }

    private static void event(ArrayNode events, String name, String category, int tid, long startNanos, long durationNanos) {
        events.addObject().put("name", name).put("cat", category).put("ph", "X").put("pid", 1).put("tid", tid)
                .put("ts", startNanos / 1000.0).put("dur", Math.max(durationNanos, 1) / 1000.0);
    }

    public static void write(LoadReport report, Path file) {
        try {
            Files.writeString(file, Json.STRICT.writeValueAsString(toJson(report)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write trace " + file, e);
        }
    }
}
