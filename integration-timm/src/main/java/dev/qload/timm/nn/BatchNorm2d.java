package dev.qload.timm.nn;

import dev.qload.core.nn.RandomInit;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.kernel.Convolution.FeatureMap;
import java.lang.foreign.ValueLayout;

/**
 * {@code nn.BatchNorm2d} in eval mode. Its running statistics are <em>persistent</em> buffers: in
 * every timm checkpoint and loaded like weights (no initializer, so a checkpoint without them fails
 * the load naming them). {@code num_batches_tracked} (I64 scalar) is persistent too, but torch's
 * {@code _BatchNorm._load_from_state_dict} fills a missing one with 0 (checkpoints older than
 * version 2, and safetensors files, which carry no version): so it has a zero initializer, and the
 * loader uses it only when the checkpoint lacks the key. Eval mode never reads it.
 */
public final class BatchNorm2d extends TimmModule {
    /** torch.nn.BatchNorm2d's default. */
    public static final double EPS = 1e-5;

    private final int channels;

    public BatchNorm2d(int channels, DType dtype) {
        this.channels = channels;
        RandomInit.fill(registerParameter("weight", Tensor.empty(Shape.of(channels), dtype)), 1f);
        RandomInit.fill(registerParameter("bias", Tensor.empty(Shape.of(channels), dtype)), 0f);
        // reset_running_stats(): mean 0, var 1 when built eagerly; a load replaces both
        RandomInit.fill(registerPersistentBuffer("running_mean", Tensor.empty(Shape.of(channels), dtype), null), 0f);
        RandomInit.fill(registerPersistentBuffer("running_var", Tensor.empty(Shape.of(channels), dtype), null), 1f);
        Tensor tracked = registerPersistentBuffer("num_batches_tracked", Tensor.empty(Shape.of(), DType.I64), BatchNorm2d::zero);
        if (!tracked.isMeta()) zero(tracked);
    }

    private static void zero(Tensor t) {
        t.data().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 0L);
    }

    /**
     * {@code y = (x − mean) / √(var + eps) · weight + bias}, per channel, in place; the order of
     * torch's CPU kernel, which folds it into {@code x · α + β} with α = weight / √(var + eps).
     */
    public void forward(FeatureMap x) {
        float[] w = floats("weight"), b = floats("bias"), mean = floats("running_mean"), var = floats("running_var");
        float[] alpha = new float[channels], beta = new float[channels];
        for (int c = 0; c < channels; c++) {
            float invStd = (float) (1 / Math.sqrt(var[c] + EPS));
            alpha[c] = w[c] * invStd;
            beta[c] = b[c] - mean[c] * alpha[c];
        }
        float[] v = x.values();
        for (int p = 0; p < v.length; p += channels) {
            for (int c = 0; c < channels; c++) v[p + c] = v[p + c] * alpha[c] + beta[c];
        }
    }

    @Override
    public String typeName() {
        return "BatchNorm2d";
    }
}
