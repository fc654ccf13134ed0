package dev.qload.timm.swin;

/**
 * The index arithmetic of Swin's windows (timm/models/swin_transformer.py), on one image's
 * channels-last rows {@code [H·W, C]}:
 * <ul>
 * <li>{@code window_partition}: windows in row-major order of the window grid, tokens row-major
 *     inside each window — token t of window w is pixel ({@code (w / (W/ws))·ws + t / ws},
 *     {@code (w % (W/ws))·ws + t % ws});</li>
 * <li>{@code torch.roll(x, (−s, −s), (1, 2))}: the shifted map's pixel (r, c) is the original
 *     ((r + s) mod H, (c + s) mod W); the reverse roll undoes it;</li>
 * <li>{@code get_relative_position_index(ws, ws)}: for tokens i, j of a window,
 *     {@code (yi − yj + ws − 1)·(2·ws − 1) + (xi − xj + ws − 1)}, an index into the
 *     {@code [(2·ws−1)², heads]} bias table;</li>
 * <li>{@code get_attn_mask}: the shifted map is cut into 3 × 3 regions by the row and column
 *     bounds {@code [0, H−ws)}, {@code [H−ws, H−s)}, {@code [H−s, H)}; two tokens of one window in
 *     different regions were not neighbours before the roll, so their score gets −100, else 0.</li>
 * </ul>
 */
final class WindowGeometry {
    /** Swin's mask value (a large negative number rather than −∞, as in the original code). */
    static final float MASKED = -100f;

    private WindowGeometry() {}

    /** The source pixel (row·W + col) of window {@code w}'s token {@code t}, after a cyclic shift by {@code shift}. */
    static int sourcePixel(int w, int t, int height, int width, int ws, int shift) {
        int windowsPerRow = width / ws;
        int r = (w / windowsPerRow) * ws + t / ws;
        int c = (w % windowsPerRow) * ws + t % ws;
        return ((r + shift) % height) * width + (c + shift) % width;
    }

    /** {@code relative_position_index [ws², ws²]}, row-major. */
    static long[] relativePositionIndex(int ws) {
        int n = ws * ws;
        long[] index = new long[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int dy = i / ws - j / ws + ws - 1;
                int dx = i % ws - j % ws + ws - 1;
                index[i * n + j] = (long) dy * (2 * ws - 1) + dx;
            }
        }
        return index;
    }

    /** {@code attn_mask [windows, ws², ws²]} of 0 and −100 for a shifted block on an H × W map. */
    static float[] shiftedWindowMask(int height, int width, int ws, int shift) {
        // get_attn_mask pads H and W up to multiples of the window
        int h = ceilTo(height, ws), w = ceilTo(width, ws);
        int n = ws * ws;
        int windows = (h / ws) * (w / ws);
        float[] mask = new float[windows * n * n];
        int[] region = new int[n];
        for (int win = 0; win < windows; win++) {
            for (int t = 0; t < n; t++) {
                int r = (win / (w / ws)) * ws + t / ws;
                int c = (win % (w / ws)) * ws + t % ws;
                region[t] = band(r, h, ws, shift) * 3 + band(c, w, ws, shift);
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) mask[(win * n + i) * n + j] = region[i] != region[j] ? MASKED : 0f;
            }
        }
        return mask;
    }

    private static int band(int p, int size, int ws, int shift) {
        if (p < size - ws) return 0;
        return p < size - shift ? 1 : 2;
    }

    private static int ceilTo(int v, int multiple) {
        return (v + multiple - 1) / multiple * multiple;
    }
}
