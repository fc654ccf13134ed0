package dev.qload.core.integrity;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.checkpoint.CheckpointIndex;
import dev.qload.core.config.Json;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.safetensors.SafetensorsFile;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code qload-checksums.json}: the size and digests every file of a checkpoint should have.
 * {@code qload checksum DIR --write} writes it, {@code qload checksum DIR --verify} checks it, and a
 * load with {@code --verify warn|require} ({@link VerifyPolicy}) checks against it.
 *
 * <pre>
 * {
 *   "algorithm-version": 1,
 *   "files": {
 *     "config.json":                      {"size": 612, "sha256": "9f86d0…(64 hex)", "blake3": "af1349…(64 hex)"},
 *     "model-00001-of-00002.safetensors": {"size": 4976698672, "sha256": "…", "blake3": "…"},
 *     "model-00002-of-00002.safetensors": {"size": 1168138808, "sha256": "…", "blake3": "…"},
 *     "model.safetensors.index.json":     {"size": 23950, "sha256": "…", "blake3": "…"}
 *   }
 * }
 * </pre>
 *
 * <ul>
 *   <li>One JSON object (UTF-8), read with {@link Json#STRICT}: a duplicate key is an error. Unknown
 *       keys, at the top or in an entry, are errors too: a format that grows bumps
 *       {@code algorithm-version} rather than adding fields an older reader would skip.</li>
 *   <li>{@code algorithm-version} (integer, required) is {@value #ALGORITHM_VERSION}: {@code sha256}
 *       is FIPS 180-4 SHA-256 of the file's bytes (for a Hub file, its LFS object id), {@code blake3}
 *       is unkeyed BLAKE3 with the default 32-byte output; each 64 hex digits (written lower-case,
 *       read in either case).</li>
 *   <li>{@code files} (object, required, may be empty): key = the file's path relative to the
 *       checkpoint directory, {@code /}-separated, neither absolute nor with {@code .} or {@code ..}
 *       segments, never this manifest itself; value = {@code size} (bytes, integer &ge; 0, required)
 *       and at least one of {@code sha256} and {@code blake3}.</li>
 *   <li>The writer lists {@code config.json}, {@code model.safetensors.index.json} when there is one,
 *       and every weight file the loader resolves, with both digests, keys sorted, two-space
 *       indentation, a final newline; it writes a temporary file and moves it into place.</li>
 * </ul>
 *
 * Every rule broken is {@code qload/ChecksumManifestInvalid}, naming this file and the entry.
 */
public record ChecksumManifest(Map<String, ExpectedDigest> files) {
    public static final String FILE_NAME = "qload-checksums.json";
    public static final int ALGORITHM_VERSION = 1;

    private static final Set<String> TOP_KEYS = Set.of("algorithm-version", "files");
    private static final Set<String> ENTRY_KEYS = Set.of("size", "sha256", "blake3");

    public ChecksumManifest {
        files = Collections.unmodifiableMap(new TreeMap<>(files));
    }

    /** The manifest of {@code directory}, if it has one. */
    public static Optional<ChecksumManifest> find(Path directory) {
        Path file = directory.resolve(FILE_NAME);
        return Files.exists(file) ? Optional.of(read(file)) : Optional.empty();
    }

    public static ChecksumManifest read(Path file) {
        JsonNode root;
        try {
            root = Json.STRICT.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ChecksumException(Problem.inFile(ErrorId.FILE_UNREADABLE, "cannot read: " + e.getMessage(), file, null, -1), e);
        } catch (JacksonException e) {
            throw invalid(file, "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw invalid(file, "the manifest must be a JSON object");
        for (String key : root.propertyNames()) {
            if (!TOP_KEYS.contains(key)) throw invalid(file, "unknown key '" + key + "' (expected " + TOP_KEYS.stream().sorted().toList() + ")");
        }
        JsonNode version = root.get("algorithm-version");
        if (version == null || !version.isIntegralNumber()) throw invalid(file, "'algorithm-version' must be an integer");
        if (!version.canConvertToInt() || version.asInt() != ALGORITHM_VERSION) {
            throw invalid(file, "'algorithm-version' is " + version + "; this qload reads version " + ALGORITHM_VERSION);
        }
        JsonNode entries = root.get("files");
        if (entries == null || !entries.isObject()) throw invalid(file, "'files' must be an object of file name to {size, sha256, blake3}");
        Map<String, ExpectedDigest> files = new LinkedHashMap<>();
        for (var e : entries.properties()) {
            String name = e.getKey();
            String bad = nameProblem(name);
            if (bad != null) throw invalid(file, "file name '" + name + "' " + bad);
            JsonNode entry = e.getValue();
            if (!entry.isObject()) throw invalid(file, "the entry of '" + name + "' must be an object {size, sha256, blake3}");
            for (String key : entry.propertyNames()) {
                if (!ENTRY_KEYS.contains(key)) throw invalid(file, "unknown key '" + key + "' in the entry of '" + name + "' (expected size, sha256, blake3)");
            }
            JsonNode size = entry.get("size");
            if (size == null || !size.isIntegralNumber() || !size.canConvertToLong() || size.asLong() < 0) {
                throw invalid(file, "'size' of '" + name + "' must be a byte count (an integer >= 0)");
            }
            String sha256 = hex(file, name, entry, "sha256"), blake3 = hex(file, name, entry, "blake3");
            if (sha256 == null && blake3 == null) throw invalid(file, "the entry of '" + name + "' has neither 'sha256' nor 'blake3'");
            files.put(name, new ExpectedDigest(size.asLong(), sha256, blake3));
        }
        return new ChecksumManifest(files);
    }

    private static String hex(Path file, String name, JsonNode entry, String key) {
        JsonNode v = entry.get(key);
        if (v == null) return null;
        if (!v.isString() || !ExpectedDigest.isHex256(v.asString())) throw invalid(file, "'" + key + "' of '" + name + "' must be 64 hex digits");
        return v.asString();
    }

    /**
     * Why {@code name} cannot be a manifest key, or null when it can: it must name a file inside the
     * checkpoint directory, relative and normalized, and not be the manifest itself.
     */
    static String nameProblem(String name) {
        if (name.isEmpty()) return "is empty";
        if (name.startsWith("/") || name.contains("\\") || name.contains(":")) return "must be a relative, '/'-separated path";
        for (String segment : name.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) return "must stay inside the checkpoint directory (no empty, '.' or '..' segments)";
        }
        if (name.equals(FILE_NAME)) return "is the manifest itself";
        return null;
    }

    private static ChecksumException invalid(Path file, String message) {
        return new ChecksumException(Problem.inFile(ErrorId.CHECKSUM_MANIFEST_INVALID, message, file, null, -1));
    }

    /** The manifest as written: sorted keys, both digests of every file. */
    public ObjectNode toJson() {
        ObjectNode root = Json.STRICT.createObjectNode();
        root.put("algorithm-version", ALGORITHM_VERSION);
        ObjectNode out = root.putObject("files");
        files.forEach((name, d) -> {
            ObjectNode entry = out.putObject(name);
            entry.put("size", d.size());
            if (d.sha256() != null) entry.put("sha256", d.sha256());
            if (d.blake3() != null) entry.put("blake3", d.blake3());
        });
        return root;
    }

    /** Writes {@code directory/qload-checksums.json} (temporary file, then a move); returns its path. */
    public Path write(Path directory) {
        for (var e : files.entrySet()) {
            if (e.getValue().size() < 0) throw new IllegalArgumentException("a written manifest needs the size of '" + e.getKey() + "'");
        }
        Path target = directory.resolve(FILE_NAME);
        Path tmp = directory.resolve(FILE_NAME + ".tmp");
        try {
            Files.writeString(tmp, Json.STRICT.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } catch (IOException e) {
            throw new ChecksumException(Problem.inFile(ErrorId.FILE_UNREADABLE, "cannot write the manifest: " + e.getMessage(), target, null, -1), e);
        }
    }

    /**
     * Hashes {@code config.json}, the index if any and every weight file of an opened checkpoint,
     * with every algorithm, on {@code threads} threads; weight files are hashed from the
     * checkpoint's own mappings.
     */
    public static ChecksumManifest compute(Checkpoint checkpoint, int threads) {
        Path dir = checkpoint.directory();
        Map<String, MemorySegment> listed = new LinkedHashMap<>();
        if (Files.isRegularFile(checkpoint.configFile())) listed.put(Checkpoint.CONFIG, null);
        if (checkpoint.index().isPresent()) listed.put(CheckpointIndex.FILE_NAME, null);
        for (SafetensorsFile f : checkpoint.files()) listed.put(f.path().getFileName().toString(), f.mapping());
        List<FileDigester> digesters = new ArrayList<>();
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (var e : listed.entrySet()) {
            Path path = dir.resolve(e.getKey());
            long size = e.getValue() != null ? e.getValue().byteSize() : sizeOf(path);
            sizes.put(e.getKey(), size);
            for (DigestAlgorithm a : DigestAlgorithm.values()) digesters.add(new FileDigester(e.getKey(), path, e.getValue(), a, size));
        }
        List<String> digests = FileDigester.runAll(digesters, threads);
        Map<String, String[]> byFile = new LinkedHashMap<>();
        for (int i = 0; i < digesters.size(); i++) {
            FileDigester d = digesters.get(i);
            byFile.computeIfAbsent(d.file(), k -> new String[DigestAlgorithm.values().length])[d.algorithm().ordinal()] = digests.get(i);
        }
        Map<String, ExpectedDigest> files = new LinkedHashMap<>();
        byFile.forEach((name, values) -> files.put(name,
                new ExpectedDigest(sizes.get(name), values[DigestAlgorithm.SHA256.ordinal()], values[DigestAlgorithm.BLAKE3.ordinal()])));
        return new ChecksumManifest(files);
    }

    static long sizeOf(Path path) {
        try {
            return Files.size(path);
        } catch (IOException e) {
            throw new ChecksumException(Problem.inFile(ErrorId.FILE_UNREADABLE, "cannot read its size: " + e.getMessage(), path, null, -1), e);
        }
    }
}
