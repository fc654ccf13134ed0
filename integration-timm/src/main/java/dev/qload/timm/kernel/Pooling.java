package dev.qload.timm.kernel;

import dev.qload.timm.kernel.Convolution.FeatureMap;

/** Pooling on channels-last rows: {@code nn.MaxPool2d} and the mean over tokens or pixels. */
public final class Pooling {
    private Pooling() {}

    /** {@code F.max_pool2d(x, kernel, stride, padding)}: padding counts as −∞, as in PyTorch. */
    public static FeatureMap maxPool2d(FeatureMap x, int kernel, int stride, int padding) {
        int c = x.channels();
        int oh = (x.height() + 2 * padding - kernel) / stride + 1;
        int ow = (x.width() + 2 * padding - kernel) / stride + 1;
        float[] out = new float[oh * ow * c];
        java.util.Arrays.fill(out, Float.NEGATIVE_INFINITY);
        float[] in = x.values();
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int dst = (oy * ow + ox) * c;
                for (int ky = 0; ky < kernel; ky++) {
                    int iy = oy * stride - padding + ky;
                    if (iy < 0 || iy >= x.height()) continue;
                    for (int kx = 0; kx < kernel; kx++) {
                        int ix = ox * stride - padding + kx;
                        if (ix < 0 || ix >= x.width()) continue;
                        int src = (iy * x.width() + ix) * c;
                        for (int ch = 0; ch < c; ch++) {
                            float v = in[src + ch];
                            // NaN propagates, as torch's max_pool2d does
                            if (v > out[dst + ch] || Float.isNaN(v)) out[dst + ch] = v;
                        }
                    }
                }
            }
        }
        return new FeatureMap(out, oh, ow, c);
    }

    /** The mean of rows {@code [from, rows)} of a {@code [rows, width]} matrix: global average pooling. */
    public static float[] meanRows(float[] x, int from, int rows, int width) {
        float[] sum = new float[width];
        for (int r = from; r < rows; r++) {
            for (int j = 0; j < width; j++) sum[j] += x[r * width + j];
        }
        int n = rows - from;
        for (int j = 0; j < width; j++) sum[j] /= n;
        return sum;
    }
}
