package dev.qload.quantizers.mxfp4;

/**
 * How a dense weight that is (or becomes) MXFP4 lies in memory. MXFP4 groups run along the input
 * axis ({@code cols}) of each output row; the dense tensor holds them either way round.
 */
enum DenseOrientation {
    /** {@code nn.Linear}: {@code [E, rows, cols]} (E = 1 for a Linear's {@code [out, in]}). */
    ROWS_MAJOR,
    /** transformers' fused experts, multiplied as {@code x @ W}: {@code [E, cols, rows]}. */
    COLS_MAJOR;

    /** Index of element (expert, row, col) of a dense tensor with {@code rows × cols} per expert. */
    long index(int expert, int row, int col, int rows, int cols) {
        return this == ROWS_MAJOR ? ((long) expert * rows + row) * cols + col : ((long) expert * cols + col) * rows + row;
    }
}
