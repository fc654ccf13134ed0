package dev.qload.bench;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.FloatFormats;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * {@code count} off-heap BF16 matrices of one shape, together at least {@code poolBytes}, used in
 * turn so that each call reads a matrix that has left the caches since its last use ("cold-ish"):
 * this machine reports a 480 MiB L3, so a single 32 MiB or 86 MiB matrix read over and over would
 * measure the cache, not memory. The first copy is normal(0, 0.02), the others byte copies of it.
 */
final class WeightPool implements AutoCloseable {
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final int rows, cols;
    final long bytesPerMatrix;
    final Tensor[] matrices;
    private final Arena arena = Arena.ofShared();
    private int next;

    WeightPool(int rows, int cols, long poolBytes, boolean randomFill) {
        this.rows = rows;
        this.cols = cols;
        this.bytesPerMatrix = (long) rows * cols * 2;
        int count = (int) Math.max(2, (poolBytes + bytesPerMatrix - 1) / bytesPerMatrix);
        this.matrices = new Tensor[count];
        for (int i = 0; i < count; i++) matrices[i] = Tensor.allocate(Shape.of(rows, cols), DType.BF16, arena); // zeroed: pages touched
        if (randomFill) {
            MemorySegment first = matrices[0].data();
            SplittableRandom random = new SplittableRandom(42);
            long n = (long) rows * cols;
            for (long i = 0; i < n; i++) first.setAtIndex(BF16, i, FloatFormats.floatToBf16((float) (0.02 * random.nextGaussian())));
            for (int i = 1; i < count; i++) MemorySegment.copy(first, 0, matrices[i].data(), 0, bytesPerMatrix);
        }
    }

    /** "4096x4096" → {4096, 4096}. */
    static int[] parseShape(String shape) {
        String[] p = shape.toLowerCase(java.util.Locale.ROOT).split("x");
        return new int[] {Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip())};
    }

    int size() {
        return matrices.length;
    }

    long totalBytes() {
        return bytesPerMatrix * matrices.length;
    }

    /** The index of the next matrix in the rotation. */
    int nextIndex() {
        int i = next;
        next = i + 1 == matrices.length ? 0 : i + 1;
        return i;
    }

    @Override
    public void close() {
        arena.close();
    }
}
