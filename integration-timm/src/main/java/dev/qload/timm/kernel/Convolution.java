package dev.qload.timm.kernel;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.MatMul;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/**
 * {@code F.conv2d} (groups 1, dilation 1) on channels-last activations, as an im2col followed by
 * the core's matrix product: each output pixel's receptive field is gathered into one row, in the
 * order of PyTorch's weight layout {@code [out, in, kh, kw]} (input channel outermost), so the
 * weight is used in place, mapped and in its own dtype, as a {@code [out, in·kh·kw]} matrix.
 * The output comes out channels-last too ({@code [pixels, out]}): what ViT calls tokens.
 */
public final class Convolution {
    private Convolution() {}

    /** The output and its spatial size. {@code values} is {@code [height·width, channels]}. */
    public record FeatureMap(float[] values, int height, int width, int channels) {}

    /**
     * @param x      input, channels-last {@code [h·w, cin]}
     * @param weight {@code [cout, cin, kernel, kernel]}
     * @param bias   {@code cout} values or null
     */
    public static FeatureMap conv2d(Kernels k, FeatureMap x, Tensor weight, float[] bias, int stride, int padding) {
        int cout = Math.toIntExact(weight.shape().dim(0));
        int cin = x.channels();
        int kh = Math.toIntExact(weight.shape().dim(2));
        int kw = Math.toIntExact(weight.shape().dim(3));
        if (weight.shape().dim(1) != cin) {
            throw new IllegalArgumentException("conv weight " + weight.shape() + " expects " + weight.shape().dim(1) + " input channels, got " + cin);
        }
        // PyTorch's output size: floor((in + 2·pad − kernel) / stride) + 1
        int oh = (x.height() + 2 * padding - kh) / stride + 1;
        int ow = (x.width() + 2 * padding - kw) / stride + 1;
        int patch = cin * kh * kw;
        float[] cols = new float[oh * ow * patch]; // zero where the field hangs over the padding
        float[] in = x.values();
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int row = (oy * ow + ox) * patch;
                for (int ky = 0; ky < kh; ky++) {
                    int iy = oy * stride - padding + ky;
                    if (iy < 0 || iy >= x.height()) continue;
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ox * stride - padding + kx;
                        if (ix < 0 || ix >= x.width()) continue;
                        int src = (iy * x.width() + ix) * cin;
                        int dst = row + ky * kw + kx;
                        for (int c = 0; c < cin; c++) cols[dst + c * kh * kw] = in[src + c];
                    }
                }
            }
        }
        float[] out = new float[oh * ow * cout];
        MatMul.linear(k, weight.view(Shape.of(cout, patch)), bias, cols, oh * ow, out);
        return new FeatureMap(out, oh, ow, cout);
    }

    /** An image in PyTorch's {@code [channels, height, width]} layout, as channels-last. */
    public static FeatureMap channelsLast(float[] chw, int offset, int channels, int height, int width) {
        float[] out = new float[channels * height * width];
        for (int c = 0; c < channels; c++) {
            for (int p = 0; p < height * width; p++) out[p * channels + c] = chw[offset + c * height * width + p];
        }
        return new FeatureMap(out, height, width, channels);
    }
}
