package dev.qload.core.integrity;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * One digest of one file, as a task: of the caller's mapping when it has one (a load hashes the
 * very mapping its tensors are views of, so the hashing is the one read of those bytes), otherwise
 * of a private mapping made and released inside the task.
 *
 * @param mapping the whole file, or null to map {@code path} in the task
 * @param bytes   the file's size
 */
public record FileDigester(String file, Path path, MemorySegment mapping, DigestAlgorithm algorithm, long bytes) {

    /** {@code sha256 model.safetensors}: the task's name in traces. */
    public String name() {
        return algorithm.key() + " " + file;
    }

    /** The digest, in hex; a file that cannot be read is a {@link ChecksumException} ({@code FileUnreadable}). */
    public String digest(BooleanSupplier cancelled) {
        try {
            if (mapping != null) return algorithm.digest(mapping, cancelled);
            try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                return algorithm.digest(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena), cancelled);
            }
        } catch (IOException e) {
            throw new ChecksumException(Problem.inFile(ErrorId.FILE_UNREADABLE, "cannot read it to hash it: " + e.getMessage(), path, null, -1), e);
        } catch (InternalError e) {
            // A mapped file truncated or replaced after it was opened faults on access (SIGBUS).
            throw new ChecksumException(Problem.inFile(ErrorId.MAPPED_FILE_CHANGED, "the file was truncated or changed while it was hashed: "
                    + e.getMessage(), path, null, -1), e);
        }
    }

    /**
     * Runs every digest on {@code threads} threads of its own, largest file first; returns the
     * digests in the order of {@code digesters}. Every failure is collected into one exception.
     */
    static List<String> runAll(List<FileDigester> digesters, int threads) {
        if (digesters.isEmpty()) return List.of();
        AtomicInteger number = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, digesters.size())), r -> {
            Thread t = new Thread(r, "qload-hash-" + number.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        AtomicBoolean abandon = new AtomicBoolean();
        try {
            List<Integer> bySize = new ArrayList<>();
            for (int i = 0; i < digesters.size(); i++) bySize.add(i);
            bySize.sort((a, b) -> Long.compare(digesters.get(b).bytes(), digesters.get(a).bytes()));
            List<Future<String>> futures = new ArrayList<>(digesters.size());
            for (int i = 0; i < digesters.size(); i++) futures.add(null);
            for (int i : bySize) {
                FileDigester d = digesters.get(i);
                Callable<String> task = () -> d.digest(abandon::get);
                futures.set(i, pool.submit(task));
            }
            List<String> digests = new ArrayList<>(digesters.size());
            List<Problem> problems = new ArrayList<>();
            Throwable first = null;
            for (Future<String> f : futures) {
                try {
                    digests.add(f.get());
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (first == null) first = cause;
                    if (cause instanceof QLoadException q) problems.addAll(q.problems());
                    else problems.add(Problem.of(ErrorId.FILE_UNREADABLE, "hashing failed: " + cause));
                    digests.add(null);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ChecksumException(Problem.of(ErrorId.FILE_UNREADABLE, "interrupted while hashing"), e);
                }
            }
            if (!problems.isEmpty()) throw new ChecksumException(problems, first);
            return digests;
        } finally {
            abandon.set(true);
            pool.shutdownNow();
            dev.qload.core.kernel.Pools.awaitQuietly(pool);
        }
    }

}
