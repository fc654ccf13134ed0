package dev.qload.core.integrity;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What checking a checkpoint directory against expected digests takes, planned before any byte is
 * hashed: the outcomes already known (a weight file without an expected digest, a listed file
 * that is not there, a size that differs) and one {@link FileDigester} per digest to compute. Whoever
 * runs the digesters (the loader, on its materialize workers; {@link #run} on threads of its own)
 * hands the digests back to {@link #checks}; {@link #enforce} turns failures into an exception or
 * warnings, per {@link VerifyPolicy}.
 */
public final class Verification {
    /** Which of a file's expected digests to compute. */
    public enum Scope {
        /** The fastest one it has (a load: one digest is proof enough). */
        FASTEST,
        /** Every one it has ({@code qload checksum --verify}). */
        EVERY
    }

    private final List<String> order;
    private final Map<String, FileCheck> settled;
    private final List<FileDigester> digesters;
    private final Map<String, ExpectedDigest> expected;
    private final Path directory;
    private final String source;

    private Verification(Path directory, String source, List<String> order, Map<String, FileCheck> settled, List<FileDigester> digesters,
                         Map<String, ExpectedDigest> expected) {
        this.directory = directory;
        this.source = source;
        this.order = order;
        this.settled = settled;
        this.digesters = digesters;
        this.expected = expected;
    }

    /**
     * @param weightFiles the files that must each have an expected digest, by name relative to
     *                    {@code directory}, with their whole mapping (null: map it when hashing)
     * @param expected    expected digests by name relative to {@code directory}; names not among
     *                    {@code weightFiles} are checked too
     * @param source      where {@code expected} came from, for messages ({@code qload-checksums.json})
     */
    public static Verification plan(Path directory, Map<String, MemorySegment> weightFiles, Map<String, ExpectedDigest> expected,
                                    String source, Scope scope) {
        for (String name : expected.keySet()) {
            String bad = ChecksumManifest.nameProblem(name);
            if (bad != null) {
                throw new ChecksumException(Problem.inFile(ErrorId.CHECKSUM_MANIFEST_INVALID, "the expected digest of '" + name + "' from "
                        + source + ": the name " + bad, directory, null, -1));
            }
        }
        Set<String> names = new LinkedHashSet<>(weightFiles.keySet());
        names.addAll(new TreeSet<>(expected.keySet()));
        List<String> order = new ArrayList<>();
        Map<String, FileCheck> settled = new LinkedHashMap<>();
        List<FileDigester> digesters = new ArrayList<>();
        if (expected.isEmpty() && !weightFiles.isEmpty()) {
            // One outcome rather than one per shard: nothing at all says what the files should be.
            String name = ChecksumManifest.FILE_NAME;
            order.add(name);
            settled.put(name, new FileCheck(name, directory.resolve(name), FileCheck.Status.NO_DIGEST, List.of(),
                    "no " + ChecksumManifest.FILE_NAME + " in the checkpoint directory and no expected digests in the load options: "
                            + "nothing to verify " + weightFiles.size() + " weight file(s) against (write one with `qload checksum DIR --write`)",
                    source));
            return new Verification(directory, source, order, settled, digesters, expected);
        }
        for (String name : names) {
            order.add(name);
            Path path = directory.resolve(name);
            ExpectedDigest want = expected.get(name);
            MemorySegment mapping = weightFiles.get(name);
            if (want == null) {
                settled.put(name, new FileCheck(name, path, FileCheck.Status.NO_DIGEST, List.of(),
                        "weight file '" + name + "' has no expected digest in " + source, source));
                continue;
            }
            if (mapping == null && !Files.isRegularFile(path)) {
                settled.put(name, new FileCheck(name, path, FileCheck.Status.MISSING, List.of(), "listed in " + source + ", not in the directory", source));
                continue;
            }
            long size = mapping != null ? mapping.byteSize() : ChecksumManifest.sizeOf(path);
            if (want.size() != ExpectedDigest.UNKNOWN_SIZE && want.size() != size) {
                settled.put(name, new FileCheck(name, path, FileCheck.Status.MISMATCH, List.of(),
                        "size expected " + want.size() + " bytes, found " + size, source));
                continue;
            }
            List<DigestAlgorithm> algorithms = scope == Scope.FASTEST ? List.of(want.algorithms().getFirst()) : want.algorithms();
            for (DigestAlgorithm a : algorithms) digesters.add(new FileDigester(name, path, mapping, a, size));
        }
        return new Verification(directory, source, order, settled, digesters, expected);
    }

    /** The failures known before hashing; under {@link VerifyPolicy#REQUIRE} they end the load before anything is allocated. */
    public List<FileCheck> settledFailures() {
        return settled.values().stream().filter(c -> !c.ok()).toList();
    }

    /** One per digest to compute, largest file first (the longest tasks start first). */
    public List<FileDigester> digesters() {
        List<FileDigester> sorted = new ArrayList<>(digesters);
        sorted.sort((a, b) -> Long.compare(b.bytes(), a.bytes()));
        return sorted;
    }

    /** The algorithms the digesters use, {@code +}-joined ({@code sha256}, {@code sha256+blake3}), or {@code none}. */
    public String algorithms() {
        Set<DigestAlgorithm> used = new TreeSet<>();
        for (FileDigester d : digesters) used.add(d.algorithm());
        return used.isEmpty() ? "none" : used.stream().map(DigestAlgorithm::key).collect(Collectors.joining("+"));
    }

    /** Every file's outcome, in plan order, given {@code digests.get(d)} for each of {@link #digesters()}. */
    public List<FileCheck> checks(Map<FileDigester, String> digests) {
        Map<String, List<FileCheck.DigestCheck>> byFile = new LinkedHashMap<>();
        for (FileDigester d : digesters) {
            String actual = digests.get(d);
            if (actual == null) throw new IllegalArgumentException("no digest for " + d.name());
            String want = expected.get(d.file()).value(d.algorithm()).orElseThrow();
            byFile.computeIfAbsent(d.file(), k -> new ArrayList<>()).add(new FileCheck.DigestCheck(d.algorithm(), want, actual));
        }
        List<FileCheck> checks = new ArrayList<>();
        for (String name : order) {
            FileCheck known = settled.get(name);
            if (known != null) {
                checks.add(known);
                continue;
            }
            List<FileCheck.DigestCheck> computed = byFile.get(name);
            List<String> wrong = computed.stream().filter(c -> !c.matches())
                    .map(c -> c.algorithm().key() + " expected " + c.expected() + ", found " + c.actual()).toList();
            checks.add(new FileCheck(name, directory.resolve(name), wrong.isEmpty() ? FileCheck.Status.OK : FileCheck.Status.MISMATCH, computed,
                    String.join("; ", wrong), source));
        }
        return checks;
    }

    /** Plans nothing new: computes every digest on {@code threads} threads of its own and returns every outcome. */
    public List<FileCheck> run(int threads) {
        List<FileDigester> sorted = digesters();
        List<String> digests = FileDigester.runAll(sorted, threads);
        Map<FileDigester, String> byDigester = new LinkedHashMap<>();
        for (int i = 0; i < sorted.size(); i++) byDigester.put(sorted.get(i), digests.get(i));
        return checks(byDigester);
    }

    /**
     * Applies {@code policy} to {@code checks}: under {@link VerifyPolicy#REQUIRE} every failure
     * goes into one {@link ChecksumException}; under {@link VerifyPolicy#WARN} each becomes a
     * warning, returned; {@link VerifyPolicy#OFF} ignores them.
     */
    public static List<String> enforce(VerifyPolicy policy, List<FileCheck> checks) {
        List<FileCheck> failed = checks.stream().filter(c -> !c.ok()).toList();
        if (failed.isEmpty() || policy == VerifyPolicy.OFF) return List.of();
        if (policy == VerifyPolicy.REQUIRE) throw new ChecksumException(failed.stream().map(FileCheck::problem).toList());
        return failed.stream().map(FileCheck::warning).toList();
    }
}
