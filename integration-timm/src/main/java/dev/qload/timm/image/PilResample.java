package dev.qload.timm.image;

/**
 * Pillow's {@code Image.resize} for 8-bit channels (libImaging/Resample.c, Pillow 9.4), which is
 * what torchvision's {@code Resize} runs on a PIL image and so what timm's eval transform computes.
 * Reproduced step by step so the resized pixels are the same bytes:
 * <ul>
 * <li>separable: a horizontal pass, then a vertical one (each only when that size changes);</li>
 * <li>{@code precompute_coeffs}: scale = in/out; when downscaling the filter is stretched by the
 *     scale (antialiasing); support = filter support × max(scale, 1); for output index i the
 *     window is centred on {@code (i + 0.5)·scale}, bounds rounded with {@code (int)(v + 0.5)},
 *     weights {@code filter((x + xmin − center + 0.5) / filterscale)} normalised to sum 1 (in double);</li>
 * <li>{@code normalize_coeffs_8bpc}: weights become fixed point with PRECISION_BITS = 22, rounded
 *     half away from zero; each pass sums {@code pixel · weight} in a 32-bit int starting from
 *     2^21 and clips {@code sum >> 22} to 0..255, so the intermediate image is 8-bit too.</li>
 * </ul>
 * Filters and supports: bilinear (triangle, 1), bicubic (a = −0.5, 2), lanczos (3-lobed sinc, 3),
 * box (0.5), hamming (1).
 */
public final class PilResample {
    static final int PRECISION_BITS = 32 - 8 - 2;

    /** A PIL resampling filter: its support and its kernel. */
    public enum Filter {
        BOX(0.5) {
            double weight(double x) {
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            }
        },
        BILINEAR(1.0) {
            double weight(double x) {
                x = Math.abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            }
        },
        HAMMING(1.0) {
            double weight(double x) {
                x = Math.abs(x);
                if (x == 0.0) return 1.0;
                if (x >= 1.0) return 0.0;
                x = x * Math.PI;
                return Math.sin(x) / x * (0.54 + 0.46 * Math.cos(x));
            }
        },
        BICUBIC(2.0) {
            double weight(double x) {
                final double a = -0.5;
                x = Math.abs(x);
                if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
                return 0.0;
            }
        },
        LANCZOS(3.0) {
            double weight(double x) {
                return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
            }
        };

        final double support;

        Filter(double support) {
            this.support = support;
        }

        abstract double weight(double x);

        private static double sinc(double x) {
            if (x == 0.0) return 1.0;
            x = x * Math.PI;
            return Math.sin(x) / x;
        }
    }

    private PilResample() {}

    /**
     * Resizes an 8-bit image held as {@code channels} interleaved values per pixel, row-major.
     * Returns the new pixels in the same layout.
     */
    public static int[] resize(int[] pixels, int width, int height, int channels, int newWidth, int newHeight, Filter filter) {
        int[] out = pixels;
        int w = width;
        if (newWidth != width) {
            out = horizontal(out, w, height, channels, newWidth, filter);
            w = newWidth;
        }
        if (newHeight != height) out = vertical(out, w, height, channels, newHeight, filter);
        return out == pixels ? pixels.clone() : out;
    }

    private record Coefficients(int[] bounds, int[] weights, int ksize) {}

    private static Coefficients precompute(int inSize, int outSize, Filter filter) {
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = filter.support * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[outSize * 2];
        int[] fixed = new int[outSize * ksize];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = (int) (center - support + 0.5); // C's (int) truncates toward zero, as Java's cast
            if (xmin < 0) xmin = 0;
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = filter.weight((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                double v = ww != 0.0 ? k[x] / ww : k[x];
                fixed[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return new Coefficients(bounds, fixed, ksize);
    }

    private static int[] horizontal(int[] in, int width, int height, int channels, int newWidth, Filter filter) {
        Coefficients c = precompute(width, newWidth, filter);
        int[] out = new int[newWidth * height * channels];
        for (int y = 0; y < height; y++) {
            for (int xx = 0; xx < newWidth; xx++) {
                int xmin = c.bounds()[xx * 2], xmax = c.bounds()[xx * 2 + 1], k = xx * c.ksize();
                for (int ch = 0; ch < channels; ch++) {
                    int ss = 1 << (PRECISION_BITS - 1);
                    for (int x = 0; x < xmax; x++) ss += in[(y * width + x + xmin) * channels + ch] * c.weights()[k + x];
                    out[(y * newWidth + xx) * channels + ch] = clip8(ss);
                }
            }
        }
        return out;
    }

    private static int[] vertical(int[] in, int width, int height, int channels, int newHeight, Filter filter) {
        Coefficients c = precompute(height, newHeight, filter);
        int[] out = new int[width * newHeight * channels];
        for (int yy = 0; yy < newHeight; yy++) {
            int ymin = c.bounds()[yy * 2], ymax = c.bounds()[yy * 2 + 1], k = yy * c.ksize();
            for (int x = 0; x < width; x++) {
                for (int ch = 0; ch < channels; ch++) {
                    int ss = 1 << (PRECISION_BITS - 1);
                    for (int y = 0; y < ymax; y++) ss += in[((y + ymin) * width + x) * channels + ch] * c.weights()[k + y];
                    out[(yy * width + x) * channels + ch] = clip8(ss);
                }
            }
        }
        return out;
    }

    /** Resample.c clip8: the fixed-point sum back to 0..255 (an arithmetic shift floors negatives, then clamps). */
    private static int clip8(int sum) {
        return Math.max(0, Math.min(255, sum >> PRECISION_BITS));
    }
}
