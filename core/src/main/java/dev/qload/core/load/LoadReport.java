package dev.qload.core.load;

import dev.qload.core.config.Json;
import java.util.List;
import java.util.Locale;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a load did and what it cost. The JSON field names ({@code total_ms}, {@code phases},
 * {@code bytes_read}, {@code bytes_mapped}, {@code peak_offheap_bytes}, {@code missing_keys},
 * {@code unexpected_keys}, {@code mismatched_keys}, ...) are read by scripts: keep them stable.
 *
 * @param bytesRead        checkpoint bytes read to produce a private copy (copy, convert, quantize)
 * @param bytesMapped      checkpoint bytes handed to the model as zero-copy views of the mapping
 * @param bytesAllocated   bytes of model storage allocated off-heap (weights and buffers)
 * @param peakOffheapBytes highest live off-heap allocation seen during the load
 * @param modelBytes       bytes of the final model's tensors (mapped or allocated; ties counted once)
 * @param verifyPolicy     {@code off}, {@code warn} or {@code require} (JSON {@code verify_policy}; this and the next two
 *                         fields are in the JSON only when the policy is not {@code off})
 * @param verifiedFiles    files whose digest was computed and matched (JSON {@code verified_files})
 * @param digestAlgorithm  the digests computed: {@code sha256}, {@code blake3}, {@code sha256+blake3} or
 *                         {@code none} (JSON {@code digest_algorithm})
 */
public record LoadReport(String checkpoint, String architecture, String quantization, String dtype,
                         List<Phase> phases, long totalNanos, int threads, int files, int tensors, long parameters,
                         long bytesRead, long bytesMapped, long bytesAllocated, long peakOffheapBytes, long modelBytes,
                         List<String> missingKeys, List<String> unexpectedKeys, List<MismatchedKey> mismatchedKeys,
                         List<String> initializedBuffers, List<String> warnings, List<TaskSpan> spans,
                         String verifyPolicy, int verifiedFiles, String digestAlgorithm) {

    /** A report of a load that verified nothing, as before verification existed. */
    public LoadReport(String checkpoint, String architecture, String quantization, String dtype,
                      List<Phase> phases, long totalNanos, int threads, int files, int tensors, long parameters,
                      long bytesRead, long bytesMapped, long bytesAllocated, long peakOffheapBytes, long modelBytes,
                      List<String> missingKeys, List<String> unexpectedKeys, List<MismatchedKey> mismatchedKeys,
                      List<String> initializedBuffers, List<String> warnings, List<TaskSpan> spans) {
        this(checkpoint, architecture, quantization, dtype, phases, totalNanos, threads, files, tensors, parameters, bytesRead, bytesMapped,
                bytesAllocated, peakOffheapBytes, modelBytes, missingKeys, unexpectedKeys, mismatchedKeys, initializedBuffers, warnings, spans,
                "off", 0, "none");
    }

    public double totalMillis() {
        return totalNanos / 1e6;
    }

    public ObjectNode toJson() {
        ObjectNode n = Json.STRICT.createObjectNode();
        n.put("checkpoint", checkpoint);
        n.put("architecture", architecture);
        n.put("quantization", quantization);
        n.put("dtype", dtype);
        n.put("total_ms", round(totalMillis()));
        ObjectNode ph = n.putObject("phases");
        for (Phase p : phases) ph.put(p.name(), round(p.millis()));
        n.put("threads", threads);
        n.put("files", files);
        n.put("tensors", tensors);
        n.put("parameters", parameters);
        n.put("bytes_read", bytesRead);
        n.put("bytes_mapped", bytesMapped);
        n.put("bytes_allocated", bytesAllocated);
        n.put("peak_offheap_bytes", peakOffheapBytes);
        n.put("model_bytes", modelBytes);
        strings(n.putArray("missing_keys"), missingKeys);
        strings(n.putArray("unexpected_keys"), unexpectedKeys);
        ArrayNode mm = n.putArray("mismatched_keys");
        for (MismatchedKey m : mismatchedKeys) {
            ObjectNode o = mm.addObject();
            o.put("key", m.key());
            o.put("checkpoint_shape", m.checkpointShape().toString());
            o.put("model_shape", m.modelShape().toString());
        }
        strings(n.putArray("initialized_buffers"), initializedBuffers);
        strings(n.putArray("warnings"), warnings);
        if (!verifyPolicy.equals("off")) {
            // Only when the load verified: a default load's report keeps exactly its earlier fields.
            n.put("verify_policy", verifyPolicy);
            n.put("verified_files", verifiedFiles);
            n.put("digest_algorithm", digestAlgorithm);
        }
        return n;
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    private static double round(double ms) {
        return Math.round(ms * 1000) / 1000.0;
    }

    /** The report as a terminal table. */
    public String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "LOAD REPORT  %s%n", checkpoint));
        row(sb, "architecture", architecture);
        row(sb, "dtype", dtype);
        row(sb, "quantization", quantization);
        row(sb, "files / tensors", files + " / " + tensors);
        row(sb, "parameters", String.format(Locale.ROOT, "%,d", parameters));
        row(sb, "model size", bytes(modelBytes));
        row(sb, "mapped (zero-copy)", bytes(bytesMapped));
        row(sb, "read into copies", bytes(bytesRead));
        row(sb, "allocated off-heap", bytes(bytesAllocated) + "  (peak " + bytes(peakOffheapBytes) + ")");
        row(sb, "threads", Integer.toString(threads));
        row(sb, "verified", verifyPolicy.equals("off") ? "off" : verifiedFiles + " file(s), " + digestAlgorithm + " (" + verifyPolicy + ")");
        sb.append(String.format(Locale.ROOT, "  %-22s %10s%n", "phase", "ms"));
        for (Phase p : phases) sb.append(String.format(Locale.ROOT, "  %-22s %10.2f%n", p.name(), p.millis()));
        sb.append(String.format(Locale.ROOT, "  %-22s %10.2f%n", "total", totalMillis()));
        row(sb, "missing keys", list(missingKeys));
        row(sb, "unexpected keys", list(unexpectedKeys));
        row(sb, "mismatched keys", mismatchedKeys.isEmpty() ? "none" : mismatchedKeys.toString());
        row(sb, "recomputed buffers", list(initializedBuffers));
        for (String w : warnings) sb.append("  warning: ").append(w).append(System.lineSeparator());
        return sb.toString();
    }

    private static void row(StringBuilder sb, String key, String value) {
        sb.append(String.format(Locale.ROOT, "  %-22s %s%n", key, value));
    }

    private static String list(List<String> values) {
        if (values.isEmpty()) return "none";
        if (values.size() <= 4) return String.join(", ", values);
        return values.size() + " (" + String.join(", ", values.subList(0, 3)) + ", ...)";
    }

    public static String bytes(long b) {
        if (b < 1024) return b + " B";
        if (b < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        if (b < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", b / (1024.0 * 1024));
        return String.format(Locale.ROOT, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    }
}
