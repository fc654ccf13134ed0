package dev.qload.quantizers.gptq;

/**
 * AutoGPTQ's {@code Quantizer} for weights ({@code auto_gptq/quantization/quantizer.py ::
 * find_params, quantize}, the same as IST-DASLab/gptq {@code quant.py}), per output row, with
 * {@code perchannel=True, mse=False}:
 *
 * <pre>
 * xmin = min(min(x), 0), xmax = max(max(x), 0)
 * sym:  xmax = max(|xmin|, xmax); if xmin &lt; 0: xmin = −xmax
 * xmin = xmax = 0 → xmin = −1, xmax = +1
 * scale = (xmax − xmin) / maxq
 * zero  = sym ? (maxq + 1) / 2 : round(−xmin / scale)
 * quantize(x) = scale · (clamp(round(x / scale) + zero, 0, maxq) − zero)
 * </pre>
 *
 * {@code round} is torch.round: half to even ({@link Math#rint}). Arithmetic is in double; with
 * {@link #FLOAT32} every result is rounded to float, which gives exactly float32 arithmetic for
 * these operations (double carries more than 2·24 + 2 bits), i.e. what torch computes on an F32
 * weight.
 */
final class GroupFit {
    /** Rounds every intermediate result to F32, as torch does on float32 tensors. */
    static final boolean FLOAT32 = true;
    /** Keeps double precision (the F64 reference fixtures, and the GPTQ solver). */
    static final boolean FLOAT64 = false;

    final double[] scale;
    final double[] zero;
    private final int maxq;
    private final boolean f32;

    private GroupFit(double[] scale, double[] zero, int maxq, boolean f32) {
        this.scale = scale;
        this.zero = zero;
        this.maxq = maxq;
        this.f32 = f32;
    }

    /** Fits each of {@code rows} rows on columns [c0, c1) of the row-major {@code w} (row stride {@code cols}). */
    static GroupFit fit(double[] w, int rows, int cols, int c0, int c1, int bits, boolean sym, boolean f32) {
        int maxq = (1 << bits) - 1;
        double[] scale = new double[rows], zero = new double[rows];
        for (int r = 0; r < rows; r++) {
            double xmin = 0, xmax = 0;
            int base = r * cols;
            for (int c = c0; c < c1; c++) {
                double v = w[base + c];
                if (v < xmin) xmin = v;
                if (v > xmax) xmax = v;
            }
            if (sym) {
                xmax = Math.max(Math.abs(xmin), xmax);
                if (xmin < 0) xmin = -xmax;
            }
            if (xmin == 0 && xmax == 0) {
                xmin = -1;
                xmax = 1;
            }
            double s = round(round(xmax - xmin, f32) / maxq, f32);
            scale[r] = s;
            zero[r] = sym ? (maxq + 1) / 2 : Math.rint(round(-xmin / s, f32));
        }
        return new GroupFit(scale, zero, maxq, f32);
    }

    /** The integer code of {@code x} in row {@code r}: clamp(round(x / scale) + zero, 0, maxq). */
    int code(int r, double x) {
        double q = Math.rint(round(x / scale[r], f32)) + zero[r];
        return (int) Math.max(0, Math.min(maxq, q));
    }

    /** The value code {@code q} stands for in row {@code r}: scale · (q − zero). */
    double value(int r, int q) {
        return round(scale[r] * (q - zero[r]), f32);
    }

    static double round(double v, boolean f32) {
        return f32 ? (float) v : v;
    }
}
