package dev.qload.quantizers.gptq;

import dev.qload.core.config.Json;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Single GPTQ layers without a model around them, for benchmarks and for code that quantizes its
 * own matrices. {@code config} holds {@code quantization_config} fields ({@code bits},
 * {@code group_size}, {@code sym}, {@code desc_act}, {@code damp_percent}, {@code static_groups},
 * {@code checkpoint_format}).
 */
public final class GptqLayers {
    private GptqLayers() {}

    /** A layer over tensors in AutoGPTQ's layout (qweight, qzeros, scales, g_idx or null), used in place. */
    public static LinearForward fromPacked(Map<String, ?> config, Tensor qweight, Tensor qzeros, Tensor scales, Tensor gIdx) {
        GptqConfig c = config(config);
        long in = qweight.shape().dim(0) * 32 / c.bits(), out = qweight.shape().dim(1);
        GptqLinear g = new GptqLinear(c, in, out, c.groups(in), scales.dtype(), gIdx != null, false, DType.F16);
        g.slot("qweight").set(qweight);
        g.slot("qzeros").set(qzeros);
        g.slot("scales").set(scales);
        if (gIdx != null) g.slot("g_idx").set(gIdx);
        g.validate("");
        return g;
    }

    /** Round-to-nearest of a dense {@code weight [out, in]}. */
    public static LinearForward roundToNearest(Map<String, ?> config, Tensor weight) {
        GptqConfig c = config(config);
        int out = (int) weight.shape().dim(0), in = (int) weight.shape().dim(1);
        return packed(c, GptqSolver.rtn(GptqSolver.weightOf(weight), out, in, null, c, GroupFit.FLOAT32));
    }

    /**
     * GPTQ of a dense {@code weight [out, in]} given the layer's calibration inputs: one array of
     * {@code tokens × in} activations per sequence.
     */
    public static LinearForward gptq(Map<String, ?> config, Tensor weight, List<float[]> sequences) {
        GptqConfig c = config(config);
        int out = (int) weight.shape().dim(0), in = (int) weight.shape().dim(1);
        Hessian h = new Hessian(in);
        for (float[] x : sequences) h.addBatch(x, 0, x.length / in);
        return packed(c, GptqSolver.gptq(GptqSolver.weightOf(weight), out, in, h.matrix(), c, "layer"));
    }

    private static GptqLinear packed(GptqConfig c, GptqSolver.Result r) {
        Tensor[] t = GptqPacker.pack(r, c);
        return (GptqLinear) fromPacked(c.toJson(), t[0], t[1], t[2], t[3]);
    }

    private static GptqConfig config(Map<String, ?> fields) {
        return GptqConfig.from(ModelConfig.of(Json.STRICT.valueToTree(new LinkedHashMap<>(fields))));
    }
}
