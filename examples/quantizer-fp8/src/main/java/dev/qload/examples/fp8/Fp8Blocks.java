package dev.qload.examples.fp8;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Block-wise FP8 of one weight matrix {@code W [out, in]} with {@code b0 × b1} scale tiles
 * ({@code weight_block_size}): tile {@code (i, j)} covers rows {@code [i·b0, (i+1)·b0)} and columns
 * {@code [j·b1, (j+1)·b1)}, cut off at the matrix edge, so the scale grid is
 * {@code [ceil(out/b0), ceil(in/b1)]}.
 *
 * <p>Quantization, per tile, in F32, as transformers' {@code Fp8Quantize.convert}
 * ({@code integrations/finegrained_fp8.py @0095b97}) computes it:
 *
 * <pre>
 * amax      = max |W[tile]|                      (NaN propagates, like torch.amax)
 * scale     = amax &gt; 0 ? (1/amax) · 448 : 1      (448/t is torch's reciprocal(t)·448, Tensor.__rdiv__)
 * Wq[tile]  = e4m3(clamp(W[tile] · scale, ±448)) (E4M3.encode)
 * scale_inv = 1/scale                            → weight_scale_inv[i, j]
 * </pre>
 *
 * and dequantization is {@code W[r, c] = float(Wq[r, c]) · weight_scale_inv[r/b0, c/b1]} (a
 * multiplication, despite the name). {@code Fp8Quantize} itself refuses shapes that are not
 * multiples of the block; the format (scale grid {@code ceil(dim/b)}, DeepSeek's masked
 * {@code weight_dequant}) allows partial edge tiles, and their amax runs over the elements inside the
 * matrix. For whole tiles this is {@code Fp8Quantize} bit for bit.
 */
final class Fp8Blocks {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final int out, in, b0, b1, tileRows, tileCols;

    Fp8Blocks(long out, long in, int b0, int b1) {
        this.out = Math.toIntExact(out);
        this.in = Math.toIntExact(in);
        this.b0 = b0;
        this.b1 = b1;
        this.tileRows = ceilDiv(this.out, b0);
        this.tileCols = ceilDiv(this.in, b1);
    }

    static int ceilDiv(int a, int b) {
        return (int) ((a + (long) b - 1) / b);
    }

    /** Quantizes {@code dense} (F32, BF16, F16 or F64 {@code [out, in]}) into {@code codes} and {@code scaleInv}. */
    void quantize(Tensor dense, MemorySegment codes, MemorySegment scaleInv) {
        Kernels kernels = Kernels.get();
        Parallel.forRange(tileRows, 1, (from, to) -> {
            float[] band = new float[Math.multiplyExact(b0, in)];
            byte[] row = new byte[in];
            for (int i = from; i < to; i++) {
                int r0 = i * b0, rows = Math.min(b0, out - r0);
                for (int r = 0; r < rows; r++) readRow(kernels, dense, r0 + r, band, r * in);
                float[] scales = new float[tileCols];
                for (int j = 0; j < tileCols; j++) {
                    int c0 = j * b1, c1 = Math.min(in, c0 + b1);
                    float amax = 0;
                    for (int r = 0; r < rows; r++) {
                        for (int c = c0; c < c1; c++) amax = Math.max(amax, Math.abs(band[r * in + c]));
                    }
                    float scale = amax > 0 ? (1f / amax) * E4M3.MAX : 1f; // NaN amax fails "> 0" too, as in torch.where
                    scales[j] = scale;
                    scaleInv.setAtIndex(F32, (long) i * tileCols + j, 1f / scale);
                }
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < in; c++) row[c] = E4M3.encode(band[r * in + c] * scales[c / b1]);
                    MemorySegment.copy(row, 0, codes, ValueLayout.JAVA_BYTE, (long) (r0 + r) * in, in);
                }
            }
        });
    }

    private void readRow(Kernels kernels, Tensor dense, int r, float[] dst, int off) {
        DType dtype = dense.dtype();
        long start = (long) r * in;
        if (dtype == DType.F64) {
            for (int c = 0; c < in; c++) dst[off + c] = dense.getFloat(start + c);
        } else {
            kernels.toFloat(dense.data(), dtype, start, dst, off, in);
        }
    }

    /**
     * Row {@code r} of the dense weight into {@code dst[0, in)}: each column tile's codes decoded
     * and multiplied by that tile's scale, in F32 (one rounding, as {@code Wq.float() * scale_inv}).
     */
    void dequantizeRow(MemorySegment codes, MemorySegment scaleInv, int r, byte[] rowCodes, float[] dst) {
        MemorySegment.copy(codes, ValueLayout.JAVA_BYTE, (long) r * in, rowCodes, 0, in);
        long scaleRow = (long) (r / b0) * tileCols;
        for (int j = 0, c0 = 0; j < tileCols; j++, c0 += b1) {
            float s = scaleInv.getAtIndex(F32, scaleRow + j);
            int c1 = Math.min(in, c0 + b1);
            for (int c = c0; c < c1; c++) dst[c] = E4M3.decode(rowCodes[c]) * s;
        }
    }

    /** The whole dense weight, F32 {@code [out, in]} row-major. */
    float[] dequantize(MemorySegment codes, MemorySegment scaleInv) {
        float[] w = new float[Math.multiplyExact(out, in)];
        byte[] rowCodes = new byte[in];
        float[] row = new float[in];
        for (int r = 0; r < out; r++) {
            dequantizeRow(codes, scaleInv, r, rowCodes, row);
            System.arraycopy(row, 0, w, r * in, in);
        }
        return w;
    }
}
