package dev.qload.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Every {@link DigestImplementation} over the same off-heap data, interleaved round by round, best
 * round kept: on a machine shared with other work, load that drifts by the second hits every
 * implementation alike, and the best round is the closest to what the code can do. Not JMH
 * ({@link DigestBench} is); a harness whose whole output is one table.
 * {@code java -cp bench/target/benchmarks.jar dev.qload.bench.DigestRounds [MiB] [rounds]}.
 */
public final class DigestRounds {
    private DigestRounds() {}

    static MemorySegment randomData(Arena arena, long bytes) {
        MemorySegment data = arena.allocate(bytes, 64);
        SplittableRandom random = new SplittableRandom(42);
        for (long i = 0; i < bytes; i += 8) data.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        return data;
    }

    /** Throws unless {@code impl} gives production's digest of {@code data}. */
    static void checkAgainstProduction(DigestImplementation impl, MemorySegment data) throws Exception {
        String expected = impl.algorithm.digest(data);
        String actual = HexFormat.of().formatHex(impl.digest(data));
        if (!expected.equals(actual)) throw new IllegalStateException(impl + " disagrees with production: " + actual + " vs " + expected);
    }

    public static void main(String[] args) throws Exception {
        long bytes = (args.length > 0 ? Long.parseLong(args[0]) : 256) << 20;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        DigestImplementation[] all = DigestImplementation.values();
        long[] best = new long[all.length];
        Arrays.fill(best, Long.MAX_VALUE);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment data = randomData(arena, bytes);
            for (DigestImplementation impl : all) checkAgainstProduction(impl, data); // also the warm-up round
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < all.length; i++) {
                    long start = System.nanoTime();
                    all[i].digest(data);
                    best[i] = Math.min(best[i], System.nanoTime() - start);
                }
            }
        }
        System.out.printf(Locale.ROOT, "%s %s, %d MiB, best of %d interleaved rounds, one thread%n", System.getProperty("java.vm.name"),
                System.getProperty("java.vm.version"), bytes >> 20, rounds);
        System.out.println("| implementation | algorithm | GB/s |\n|---|---|---:|");
        for (int i = 0; i < all.length; i++) {
            System.out.printf(Locale.ROOT, "| %s | %s | %.2f |%n", all[i].name().toLowerCase(Locale.ROOT).replace('_', '-'), all[i].algorithm.key(),
                    bytes / (double) best[i]);
        }
    }
}
